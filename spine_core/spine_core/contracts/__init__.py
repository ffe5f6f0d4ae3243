"""Event contracts from the code: AsyncAPI documents and the compatibility check."""
