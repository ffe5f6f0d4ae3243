"""Consumer side: registered topics, argument resolvers, and the per-message runner."""
