//! The enrich stage: knowledge added to records from outside the message
//! (the RDS event catalogue, the engine a log group's content named).

pub mod engine;
pub mod rds_events;
