"""Indexes shaped for the data center's aggregates (app/stats.py), declared here so the models they serve
stay as they are. Each covers what its GROUP BY reads, in two orders: owner first (a team: one range
per owner in the scope's list) and time first (the whole company: one range of the window).
Made by migrations/versions/0008_stats.py; those on the recycle bin's tables are partial (only records not in
the bin, which is what every statistic counts) since 0017_recycle."""
from sqlalchemy import Index, text

from models.call import CallRecord
from models.crm import Customer, FollowUp, OwnerHistory
from models.sales import Contract, Invoice, Opportunity

# partial (records not in the bin), with deleted_at as the last column all the same: SQLite counts an index as
# covering only when it holds every column the statement names, and every statement says deleted_at IS NULL
LIVE = {"sqlite_where": text("deleted_at IS NULL"), "postgresql_where": text("deleted_at IS NULL")}

STATS_INDEXES = (
    Index("ix_call_record_stats_owner", CallRecord.owner_id, CallRecord.created_at, CallRecord.disposition,
          CallRecord.talk_seconds),
    Index("ix_call_record_stats_time", CallRecord.created_at, CallRecord.owner_id, CallRecord.disposition,
          CallRecord.talk_seconds),
    Index("ix_customer_stats_owner", Customer.owner_id, Customer.created_at, Customer.status_id,
          Customer.source_id, Customer.deleted_at, **LIVE),
    Index("ix_customer_stats_time", Customer.created_at, Customer.owner_id, Customer.status_id,
          Customer.source_id, Customer.deleted_at, **LIVE),
    Index("ix_owner_history_stats", OwnerHistory.action, OwnerHistory.at, OwnerHistory.to_owner_id,
          OwnerHistory.from_owner_id),
    Index("ix_followup_stats_owner", FollowUp.owner_id, FollowUp.followed_at, FollowUp.way,
          FollowUp.customer_id, FollowUp.deleted_at, **LIVE),
    Index("ix_followup_stats_time", FollowUp.followed_at, FollowUp.owner_id, FollowUp.way,
          FollowUp.customer_id, FollowUp.deleted_at, **LIVE),
    # overdue next follow-ups: the anti-join reads customer and time from the index, not the table
    Index("ix_followup_stats_next", FollowUp.next_followup_at, FollowUp.owner_id, FollowUp.customer_id,
          FollowUp.followed_at, FollowUp.deleted_at, **LIVE),
    Index("ix_followup_stats_owner_next", FollowUp.owner_id, FollowUp.next_followup_at, FollowUp.customer_id,
          FollowUp.followed_at, FollowUp.deleted_at, **LIVE),
    Index("ix_opportunity_stats_owner", Opportunity.owner_id, Opportunity.created_at, Opportunity.deleted_at, **LIVE),
    Index("ix_opportunity_stats_time", Opportunity.created_at, Opportunity.owner_id, Opportunity.deleted_at, **LIVE),
    Index("ix_contract_stats_owner", Contract.owner_id, Contract.signed_on, Contract.deleted_at, **LIVE),
    Index("ix_contract_stats_time", Contract.signed_on, Contract.owner_id, Contract.deleted_at, **LIVE),
    Index("ix_invoice_stats_owner", Invoice.owner_id, Invoice.issued_on, Invoice.deleted_at, **LIVE),
    Index("ix_invoice_stats_time", Invoice.issued_on, Invoice.owner_id, Invoice.deleted_at, **LIVE),
)
