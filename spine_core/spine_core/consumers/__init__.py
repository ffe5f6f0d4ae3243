"""Consumer side: registered topics, argument resolvers, the middleware chain and the delivery engine."""
