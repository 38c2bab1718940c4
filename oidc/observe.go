package oidc

import "time"

// The endpoints a [Call] names.
const (
	CallDiscovery     = "discovery"     // OpenID Connect Discovery §4
	CallJWKS          = "jwks"          // RFC 7517 §5, the jwks_uri
	CallToken         = "token"         // RFC 6749 §3.2: code exchange and refresh
	CallUserinfo      = "userinfo"      // OpenID Connect Core §5.3
	CallRevocation    = "revocation"    // RFC 7009
	CallIntrospection = "introspection" // RFC 7662
	CallTokenCheck    = "token_check"   // a preset's own access-token check (GitHub, Google tokeninfo)
)

// Call describes one finished request to the provider, for
// [Config.Observe]. The end-session endpoint never appears: edgeauth only
// builds a URL to it, the browser makes the request.
type Call struct {
	// Endpoint is one of the Call* names.
	Endpoint string
	// Status is the HTTP status of the answer; 0 when none came.
	Status int
	// Duration runs from sending the request to having read its answer.
	Duration time.Duration
	// Err is nil when a usable answer came (a refusal such as
	// invalid_grant is an answer: see Status). Otherwise it is the network
	// error, timeout, oversized or malformed answer, or for discovery and
	// JWKS the validation that failed (issuer mismatch, no usable key). It
	// may carry provider text: for logs and metrics labels derived from
	// it, never for clients.
	Err error
}

// observe reports a finished call to Config.Observe, if set.
func (p *Provider) observe(endpoint string, start time.Time, status int, err error) {
	if p.cfg.Observe != nil {
		p.cfg.Observe(Call{Endpoint: endpoint, Status: status, Duration: time.Since(start), Err: err})
	}
}
