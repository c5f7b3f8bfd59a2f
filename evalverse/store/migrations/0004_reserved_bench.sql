-- Placeholder in branch `humans` only: the benchmark branch owns migration 0004 (suites, bench runs,
-- leaderboard intervals). When merging, take the benchmark branch's 0004_*.sql and delete this file.
SELECT 1;
