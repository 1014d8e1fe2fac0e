// 控制台 (Flask-Admin) under the Content-Security-Policy: its templates use javascript:void(0) links for tabs,
// menus and disabled pagination; a click on one would be a blocked javascript: navigation. They become "#"
// links whose default is prevented (the dropdowns and filters keep working through their own handlers).
(function () {
  function neutralise(root) {
    var links = root.querySelectorAll('a[href^="javascript:"]');
    for (var i = 0; i < links.length; i++) {
      links[i].setAttribute('href', '#');
      links[i].setAttribute('data-crm-void', '1');
    }
  }
  document.addEventListener('click', function (e) {
    var link = e.target.closest && e.target.closest('a[data-crm-void]');
    if (link) { e.preventDefault(); }
  });
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', function () { neutralise(document); });
  } else {
    neutralise(document);
  }
}());
