package server

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// jwks publishes the public keys of the API-token signer. Caches may keep
// it briefly; a new key is published before it signs, so a stale copy only
// lacks keys that sign nothing yet.
func (s *Server) jwks(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "public, max-age=300")
	return c.Blob(http.StatusOK, "application/jwk-set+json", s.signer.JWKS())
}

// discovery is the issuer metadata of the API tokens, enough for any JWT
// library that discovers keys from an issuer (RFC 8414 field names).
func (s *Server) discovery(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "public, max-age=300")
	return c.JSON(http.StatusOK, map[string]any{
		"issuer":                                s.cfg.TokenIssuer,
		"jwks_uri":                              s.cfg.PublicURL + "/.well-known/jwks.json",
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{s.signer.Algorithm()},
	})
}

func (s *Server) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}
