"""The GraphQL face of business documents (sales orders)."""
