"""Jobs: records in a database, and executors that run each job's pipeline in its own process group."""
