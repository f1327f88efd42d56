//! The enrich stage: knowledge added to records from outside the message
//! (the RDS event catalogue, the engine a log group's content named) and the
//! construction of resources and RDS-event records.

pub mod engine;
pub mod metadata;
pub mod rds_event;
pub mod rds_events;
pub mod resource;
