"""HTTP side: routes, argument resolvers, responses, and the Falcon app that ties them."""
