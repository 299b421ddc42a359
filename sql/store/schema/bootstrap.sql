-- Run before every migration: the database and the record of applied migrations.
CREATE DATABASE IF NOT EXISTS {db};
CREATE TABLE IF NOT EXISTS {db}.schema_migrations
(
    version UInt32,
    name String,
    server_version String,
    applied_at DateTime('UTC')
)
ENGINE = ReplacingMergeTree(applied_at)
ORDER BY version;
