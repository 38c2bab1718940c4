package server

import (
	"github.com/labstack/echo/v4"
)

// routes lists every route in one place: the whole API at a glance.
func (s *Server) routes(e *echo.Echo) {
	e.GET("/oauth2/providers", s.listProviders)
	e.GET("/oauth2/url", s.authorizationURL)
	e.POST("/oauth2/token", s.token)

	e.GET("/.well-known/jwks.json", s.jwks)
	e.GET("/.well-known/openid-configuration", s.discovery)

	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)

	if s.devOP != nil {
		e.Any("/dev/op/*", echo.WrapHandler(s.devOP))
		e.GET("/", s.demoPage)
		e.GET("/callback", s.demoPage)
	}
}
