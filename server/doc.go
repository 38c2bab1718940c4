// Package server is edgeauth's HTTP service: configuration from the
// environment, the Echo application and its handlers. The work itself is
// done by the domain packages: oidc talks to providers, statecodec seals
// states, apitoken mints and verifies API tokens, userhook asks the
// backend; server adds HTTP, problem+json errors, logging and limits.
//
//	cfg, err := server.LoadConfig(os.Getenv, nil) // read, derive, validate: every problem at once
//	if err != nil {
//		return err // *server.ConfigError lists each variable and what is wrong
//	}
//	return server.Run(ctx, cfg, server.NewLogger(cfg, os.Stderr), os.Stdout)
//
// Files: routes.go is the index of every route; login.go (url, token),
// refresh.go, convert.go, logout.go (revoke, logout-url), verify.go and
// wellknown.go (keys, health) are the endpoint groups; pipeline.go is the
// tail they share (webhook, mint, answer); binding.go and flowstate.go
// bind a login to its browser; problem.go has the error codes;
// middleware.go the request id, access log, rate limit and headers;
// config*.go read, derive and check the configuration; dev.go is
// `edgeauth dev`.
package server
