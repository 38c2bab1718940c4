package server

import (
	"github.com/labstack/echo/v4"
)

// routes lists every route in one place: the whole API at a glance. The
// endpoints that call a provider or mint tokens are rate-limited per client
// address; health, readiness, metrics, keys and verify never are (verify is called by
// a proxy for every request it forwards).
func (s *Server) routes(e *echo.Echo) {
	limited := s.rateLimit()

	e.GET("/oauth2/providers", s.listProviders)
	e.GET("/oauth2/url", s.authorizationURL, limited)        // login.go
	e.POST("/oauth2/token", s.token, limited)                // login.go
	e.POST("/oauth2/refresh", s.refreshSession, limited)     // refresh.go
	e.POST("/oauth2/convert-token", s.convertToken, limited) // convert.go
	e.POST("/oauth2/revoke", s.revoke, limited)              // logout.go
	e.GET("/oauth2/logout-url", s.logoutURL, limited)        // logout.go
	e.GET("/oauth2/verify", s.verify)                        // verify.go
	e.HEAD("/oauth2/verify", s.verify)
	e.POST("/oauth2/callback/:provider", s.formCallback, limited) // callback.go: form_post answers (Apple)

	e.GET("/.well-known/jwks.json", s.jwks) // wellknown.go
	e.GET("/.well-known/openid-configuration", s.discovery)

	e.GET("/healthz", s.healthz)
	e.HEAD("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.HEAD("/readyz", s.readyz)
	e.GET("/metrics", s.metrics.handler()) // metrics.go
	e.HEAD("/metrics", s.metrics.handler())

	if s.devOP != nil { // dev.go
		e.Any("/dev/op/*", echo.WrapHandler(s.devOP))
		e.GET("/", s.demoPage)
		e.GET("/callback", s.demoPage)
	}
}
