//! The enrich stage: knowledge added to records from outside the message
//! (today the RDS event catalogue).

pub mod rds_events;
