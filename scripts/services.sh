#!/usr/bin/env bash
# Make sure PostgreSQL and Redis answer on localhost for the test suite; start them if they are
# installed but not running. Prints what it found; never fails the build by itself (tests that
# need a missing service say so).
set -u
pg_up() { pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null || (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; }
redis_up() { (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; }
if ! pg_up; then
  if command -v pg_ctlcluster >/dev/null 2>&1; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start 2>/dev/null || true
    sleep 2
  fi
fi
if ! redis_up; then
  if command -v redis-server >/dev/null 2>&1; then
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
      --dir /tmp --logfile /tmp/librarian-redis.log || true
    sleep 1
  fi
fi
pg_up && echo "postgres: up" || echo "postgres: not available (PostgreSQL tests will be skipped)"
redis_up && echo "redis: up" || echo "redis: not available (Redis tests will be skipped)"
