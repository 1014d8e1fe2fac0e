"""Import (导入) on the screens and in the REST API. The module's API gets /import/template and /import
(views/generator_api.py mixes ImportApiMixin in for modules that declare `importer`); the jobs answer at
/api/v1/import_job/. The list screen's dialog talks to ImportView (session cookie and CSRF token)."""
from __future__ import annotations

from flask import abort, g, jsonify, request, send_file
from flask_appbuilder import BaseView, expose
from flask_appbuilder.api import BaseApi
from flask_appbuilder.api import expose as api_expose
from flask_appbuilder.api import protect, safe
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from app.errors import CrmError, NotFound
from app.extensions import db
from app.importing import jobs, workbooks
from app.importing.columns import template_columns
from app.importing.mapping import HeaderError

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _spec(key):
    from views.modules import SPECS

    spec = next((s for s in SPECS if s.key == key and s.importer is not None), None)
    if spec is None:
        raise NotFound(_l("This module cannot be imported."))
    return spec


def template_response(spec, user):
    """The template (only the columns the importer may fill in); a refusal (a hidden key) as CrmError."""
    data = workbooks.template(spec, template_columns(spec, user))
    import io

    name = _("%(module)s import template", module=spec.label) + ".xlsx"
    return send_file(io.BytesIO(data), mimetype=XLSX, as_attachment=True, download_name=name)


def start_import(spec, user):
    """The upload -> (status, body): 202 {job_id} or 4xx {message, ...} (header problems carry the
    file's columns, the template's and a guessed mapping for the dialog's mapping step)."""
    try:
        storage = request.files.get("file")
        form = request.form
        job = jobs.create(spec, user, storage, form.get("duplicate", "skip"), form.get("owner"),
                          form.get("mapping"), jobs.parse_bool(form.get("dry_run")))
    except RequestEntityTooLarge:
        db.session.rollback()
        return 413, {"message": _("The file is too large for an import.")}
    except HeaderError as error:
        db.session.rollback()
        return 400, {"message": str(error.message), "field": "file", "header": error.header,
                     "template": error.template, "guess": error.guess}
    except CrmError as error:
        db.session.rollback()
        body = {"message": str(error.message)}
        if error.field:
            body["field"] = error.field
        return error.status, body
    return 202, {"job_id": job.id, "status": job.status, "total": job.total}


def errors_response(job):
    if not job.error_path:
        raise NotFound(_l("This import has no error rows."))
    name = f"{job.file_name.rsplit('.', 1)[0]}-{_('errors')}.xlsx"
    return send_file(job.error_path, mimetype=XLSX, as_attachment=True, download_name=name)


class ImportApiMixin:
    """GET /api/v1/<module>/import/template and POST /api/v1/<module>/import (the 导入 right)."""

    @api_expose("/import/template", methods=["GET"])
    @protect()
    @safe
    def import_template(self):
        """The module's import template (.xlsx): header, drop-downs, date cells and a 填写说明 sheet.
        ---
        get:
          responses:
            200: {description: "the template", content: {application/vnd.openxmlformats-officedocument.spreadsheetml.sheet: {}}}
            403: {$ref: '#/components/responses/403'}
        """
        try:
            return template_response(self.spec, g.user)
        except CrmError as error:
            return self.response(error.status, message=str(error.message))

    @api_expose("/import", methods=["POST"])
    @protect()
    @safe
    def import_file(self):
        """Start an import job; answers at once with its id.
        ---
        post:
          requestBody:
            required: true
            content:
              multipart/form-data:
                schema:
                  type: object
                  properties:
                    file: {type: string, format: binary, description: ".xlsx or .csv (UTF-8, UTF-8 with BOM, GBK)"}
                    duplicate: {type: string, enum: [skip, overwrite]}
                    owner: {type: string, description: "employee id; empty = the public pool"}
                    mapping: {type: string, description: 'JSON {"file column": "template column" or null}'}
                    dry_run: {type: boolean}
                  required: [file]
          responses:
            202:
              description: the job was created
              content:
                application/json:
                  schema: {type: object, properties: {job_id: {type: integer}}}
            400: {$ref: '#/components/responses/400'}
            403: {$ref: '#/components/responses/403'}
            413: {description: "the file is too large"}
        """
        status, body = start_import(self.spec, g.user)
        return self.response(status, **body)


def _caller():
    """The logged-in employee (session cookie or JWT), or None."""
    if current_user is not None and current_user.is_authenticated:
        return current_user
    from flask_jwt_extended import verify_jwt_in_request

    try:
        verify_jwt_in_request()
    except Exception:
        return None
    user = g.get("user")
    return user if user is not None and not getattr(user, "is_anonymous", True) else None


class ImportJobApi(BaseApi):
    """Import jobs: the caller's own (every job for those whose data scope is 全部)."""

    resource_name = "import_job"
    openapi_spec_tag = "Import jobs"

    def _run(self, fn):
        user = _caller()
        if user is None:
            return self.response(401, message=_("Please log in first."))
        g.user = user
        try:
            return fn(user)
        except CrmError as error:
            db.session.rollback()
            return self.response(error.status, message=str(error.message))

    @api_expose("/", methods=["GET"])
    @safe
    def list_jobs(self):
        """The caller's imports, newest first (at most 100).
        ---
        get:
          responses:
            200: {description: "{result: [job, ...]}"}
            401: {$ref: '#/components/responses/401'}
        """
        return self._run(lambda user: self.response(200, result=[
            jobs.as_json(j) for j in db.session.scalars(jobs.visible_jobs(user).limit(100))]))

    @api_expose("/<int:pk>", methods=["GET"])
    @safe
    def get_job(self, pk):
        """One import: status (queued, running, done, failed), total, done, imported, overwritten, skipped, failed.
        ---
        get:
          parameters:
          - {in: path, name: pk, required: true, schema: {type: integer}}
          responses:
            200: {description: the job}
            404: {$ref: '#/components/responses/404'}
        """
        return self._run(lambda user: self.response(200, **jobs.as_json(jobs.get(pk, user))))

    @api_expose("/<int:pk>/errors", methods=["GET"])
    @safe
    def job_errors(self, pk):
        """The error workbook: skipped and failed rows, the reason in column 1.
        ---
        get:
          parameters:
          - {in: path, name: pk, required: true, schema: {type: integer}}
          responses:
            200: {description: the workbook}
            404: {$ref: '#/components/responses/404'}
        """
        return self._run(lambda user: errors_response(jobs.get(pk, user)))

    @api_expose("/<int:pk>/undo", methods=["POST"])
    @safe
    def undo_job(self, pk):
        """撤销本次导入 (within 24 hours): removes the records it created that nobody changed since.
        ---
        post:
          parameters:
          - {in: path, name: pk, required: true, schema: {type: integer}}
          responses:
            200: {description: "{removed, kept, message}"}
            400: {$ref: '#/components/responses/400'}
            404: {$ref: '#/components/responses/404'}
        """
        return self._run(lambda user: self.response(200, **jobs.undo(jobs.get(pk, user), user)))


class ImportView(BaseView):
    """The dialog's endpoints on the screens (session cookie, CSRF token) and 导入记录."""

    route_base = "/import"
    default_view = "records"

    def _user(self):
        if not current_user.is_authenticated:
            abort(401)
        return current_user

    def _importable(self, key):
        try:
            spec = _spec(key)
        except NotFound:
            abort(404)
        if not self.appbuilder.sm.has_access("can_import", spec.module):
            abort(403)
        return spec

    @expose("/<key>/template")
    def template(self, key):
        user = self._user()
        spec = self._importable(key)
        try:
            return template_response(spec, user)
        except CrmError as error:
            from app.error_pages import answer

            return answer(error.status, error.message)

    @expose("/<key>/", methods=["POST"])
    def start(self, key):
        user = self._user()
        spec = self._importable(key)
        status, body = start_import(spec, user)
        return jsonify(body), status

    @expose("/jobs/")
    def records(self):
        user = self._user()
        rows = [jobs.as_json(j) for j in db.session.scalars(jobs.visible_jobs(user).limit(100))]
        return self.render_template("crm/import_jobs.html", jobs=rows, title=_("Import records"))

    @expose("/jobs/<int:pk>.json")
    def job(self, pk):
        user = self._user()
        try:
            return jsonify(jobs.as_json(jobs.get(pk, user)))
        except CrmError as error:
            return jsonify(message=str(error.message)), error.status

    @expose("/jobs/<int:pk>/errors")
    def errors(self, pk):
        user = self._user()
        try:
            return errors_response(jobs.get(pk, user))
        except CrmError:
            abort(404)

    @expose("/jobs/<int:pk>/undo", methods=["POST"])
    def undo(self, pk):
        user = self._user()
        try:
            result = jobs.undo(jobs.get(pk, user), user)
        except CrmError as error:
            db.session.rollback()
            return jsonify(message=str(error.message)), error.status
        return jsonify(result)
