"""Business documents with a lifecycle (sales orders), their rules and their storage."""
