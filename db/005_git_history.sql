-- 005_git_history.sql - findings made in the history of a git repository
-- copied into a layer (a .git directory or a bare repository). Such a
-- finding's path is the repository directory, so its visibility follows
-- the directory; these columns say where in the history it was made.
-- git_source is NULL for every other finding. Author names and e-mails are
-- never stored.
ALTER TABLE findings ADD COLUMN git_source TEXT; -- blob, commit-message, tag-message
ALTER TABLE findings ADD COLUMN git_commit TEXT; -- hex id, '' when no commit holds the blob
ALTER TABLE findings ADD COLUMN git_path TEXT;   -- path inside the repository, '' for messages
ALTER TABLE findings ADD COLUMN git_reachable INTEGER;   -- 0/1: a ref, tag, HEAD or stash reaches it
ALTER TABLE findings ADD COLUMN git_in_worktree INTEGER; -- 0/1: the work tree still holds the blob
-- A finding in a file whose secret the history of a repository in the same
-- layer holds too (its history copy was folded into it).
ALTER TABLE findings ADD COLUMN in_history INTEGER NOT NULL DEFAULT 0
    CHECK (in_history IN (0, 1));
