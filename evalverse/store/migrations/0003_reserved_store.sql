-- Placeholder in branch `humans` only: the store branch owns migration 0003. The loader needs versions
-- 1..n without gaps, so this empty step keeps 0005 loadable here. When merging, take the store branch's
-- 0003_*.sql and delete this file.
SELECT 1;
