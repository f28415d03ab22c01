"""Build: the dimensions, facts and views of business dates from the raw layer, and the batch genealogy
traces."""
