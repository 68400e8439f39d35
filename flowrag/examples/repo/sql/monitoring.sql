-- Tables the monitoring collector fills before the runs reach MongoDB.
CREATE TABLE flow_runs (
    run_id      VARCHAR(40) PRIMARY KEY,
    pipeline    VARCHAR(100) NOT NULL,
    status      VARCHAR(20) NOT NULL,
    started_at  TIMESTAMP NOT NULL,
    error       TEXT
);

CREATE VIEW failed_runs AS
    SELECT pipeline, started_at, error FROM flow_runs WHERE status = 'FAILED';
