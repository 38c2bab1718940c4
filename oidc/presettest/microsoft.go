package presettest

import (
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// MicrosoftConsumers is the tenant id of personal Microsoft accounts.
const MicrosoftConsumers = "9188040d-6c67-4c5b-b112-36a304b66dad"

// MicrosoftUser is the account that signs in at the Microsoft fake.
type MicrosoftUser struct {
	TenantID string // tid; default "72f988bf-86f1-41af-91ab-2d7cd011db47"
	OID      string // object id in the tenant
	Sub      string // pairwise per app
	Email    string // mutable, set by the tenant's administrators
	Name     string
	// EmailDomainVerified, when set, is sent as the optional claim
	// xms_edov (the app registration must ask for it).
	EmailDomainVerified *bool
}

// MicrosoftOptions configure [NewMicrosoft].
type MicrosoftOptions struct {
	ClientID, ClientSecret string
	RedirectURIs           []string
	User                   MicrosoftUser
	Now                    func() time.Time
}

// Microsoft fakes the Microsoft identity platform v2.0 endpoints at
// login.microsoftonline.com and Graph's OpenID userinfo, as documented at
// https://learn.microsoft.com/en-us/entra/identity-platform/v2-protocols-oidc
// and https://learn.microsoft.com/en-us/entra/identity-platform/id-token-claims-reference:
//
//   - /{tenant}/v2.0/.well-known/openid-configuration for a tenant id,
//     common, organizations and consumers; common and organizations publish
//     the issuer https://login.microsoftonline.com/{tenantid}/v2.0 (a
//     template), a tenant (and consumers) its own;
//   - ID tokens with ver 2.0, tid, oid, preferred_username and an email
//     claim without email_verified; iss names the user's tenant;
//   - a refresh token only with the offline_access scope;
//   - token errors with AADSTS descriptions and error_codes; userinfo at
//     graph.microsoft.com/oidc/userinfo without email_verified; an
//     end_session_endpoint and no revocation endpoint.
//
// The fake signs in its user whatever tenant the request names, so that a
// relying party's own tenant checks can be tested; [Microsoft.EditIDToken]
// bends the claims further.
type Microsoft struct {
	srv    *httptest.Server
	opts   MicrosoftOptions
	signer *rsaSigner

	mu      sync.Mutex
	user    MicrosoftUser
	edit    func(map[string]any)
	codes   map[string]*codeRequest
	access  map[string]microsoftGrant
	refresh map[string]microsoftGrant
}

type microsoftGrant struct {
	clientID, scope string
	user            MicrosoftUser
	expires         time.Time
}

// NewMicrosoft starts the fake; it is closed with the test.
func NewMicrosoft(tb testing.TB, opts MicrosoftOptions) *Microsoft {
	tb.Helper()
	if opts.Now == nil {
		opts.Now = time.Now
	}
	m := &Microsoft{opts: opts, signer: newRSASigner(tb), codes: map[string]*codeRequest{},
		access: map[string]microsoftGrant{}, refresh: map[string]microsoftGrant{}}
	m.user = m.defaults(opts.User)
	m.srv = httptest.NewServer(http.HandlerFunc(m.serve))
	tb.Cleanup(m.srv.Close)
	return m
}

func (m *Microsoft) defaults(u MicrosoftUser) MicrosoftUser {
	if u.TenantID == "" {
		u.TenantID = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	}
	if u.OID == "" {
		u.OID = "00000000-0000-0000-66f3-3332eca7ea81"
	}
	if u.Sub == "" {
		u.Sub = "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ"
	}
	if u.Email == "" {
		u.Email = "ada@contoso.example"
	}
	if u.Name == "" {
		u.Name = "Ada Lovelace"
	}
	return u
}

// Client reaches the fake under login.microsoftonline.com and
// graph.microsoft.com.
func (m *Microsoft) Client() *http.Client {
	return hostClient(m.srv, "login.microsoftonline.com", "graph.microsoft.com")
}

// Login follows authURL as the signed-in user and returns the redirect
// back to the app.
func (m *Microsoft) Login(authURL string) (*url.URL, error) {
	return authorizeRedirect(m.Client(), authURL)
}

// SetUser changes the account that signs in next.
func (m *Microsoft) SetUser(u MicrosoftUser) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.user = m.defaults(u)
}

// EditIDToken lets a test change the claims of later ID tokens (nil: as
// Microsoft would send them).
func (m *Microsoft) EditIDToken(f func(map[string]any)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.edit = f
}

// IDToken mints an ID token of the current user for any client, as MSAL
// on a device would get it.
func (m *Microsoft) IDToken(clientID, nonce string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.idToken(clientID, nonce, m.user)
}

func (m *Microsoft) idToken(aud, nonce string, u MicrosoftUser) string {
	now := m.opts.Now()
	c := map[string]any{
		"ver": "2.0", "iss": "https://login.microsoftonline.com/" + u.TenantID + "/v2.0",
		"sub": u.Sub, "aud": aud, "exp": now.Add(time.Hour).Unix(), "iat": now.Unix(), "nbf": now.Unix(),
		"name": u.Name, "preferred_username": u.Email, "oid": u.OID, "email": u.Email, "tid": u.TenantID,
		"aio": "Df2UVXL1ix!lMCWMSOJBcFatzcGfvFGhjKv8q5g0x732dR5MB5BisvGQO7YWByjd8iQDLq!eGbIDakyp5mnOrcdqHeYSnltepQmRp6AIZ8jY",
	}
	if nonce != "" {
		c["nonce"] = nonce
	}
	if u.EmailDomainVerified != nil {
		c["xms_edov"] = *u.EmailDomainVerified
	}
	if m.edit != nil {
		m.edit(c)
	}
	return m.signer.sign(c)
}

// tenantIssuer is the issuer the discovery document of tenant publishes,
// "" for a tenant the fake does not know.
func tenantIssuer(tenant string) string {
	switch tenant {
	case "common", "organizations":
		return "https://login.microsoftonline.com/{tenantid}/v2.0"
	case "consumers":
		return "https://login.microsoftonline.com/" + MicrosoftConsumers + "/v2.0"
	}
	if len(tenant) == 36 && strings.Count(tenant, "-") == 4 {
		return "https://login.microsoftonline.com/" + tenant + "/v2.0"
	}
	return ""
}

func aadError(w http.ResponseWriter, status int, code string, num int, desc string) {
	writeJSONAnswer(w, status, map[string]any{
		"error": code, "error_description": "AADSTS" + strconv.Itoa(num) + ": " + desc + " Trace ID: 0000 Correlation ID: 0000 Timestamp: 2026-01-01 00:00:00Z",
		"error_codes": []int{num}, "timestamp": "2026-01-01 00:00:00Z", "trace_id": "0000", "correlation_id": "0000",
	})
}

func (m *Microsoft) serve(w http.ResponseWriter, r *http.Request) {
	if r.Host == "graph.microsoft.com" {
		if r.URL.Path == "/oidc/userinfo" {
			m.userinfo(w, r)
			return
		}
		http.NotFound(w, r)
		return
	}
	tenant, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	iss := tenantIssuer(tenant)
	if iss == "" {
		aadError(w, http.StatusBadRequest, "invalid_tenant", 90002, "Tenant '"+tenant+"' not found.")
		return
	}
	base := "https://login.microsoftonline.com/" + tenant
	switch rest {
	case "v2.0/.well-known/openid-configuration":
		writeJSONAnswer(w, http.StatusOK, map[string]any{
			"token_endpoint":                        base + "/oauth2/v2.0/token",
			"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
			"jwks_uri":                              base + "/discovery/v2.0/keys",
			"response_modes_supported":              []string{"query", "fragment", "form_post"},
			"subject_types_supported":               []string{"pairwise"},
			"id_token_signing_alg_values_supported": []string{"RS256"},
			"response_types_supported":              []string{"code", "id_token", "code id_token", "id_token token"},
			"scopes_supported":                      []string{"openid", "profile", "email", "offline_access"},
			"issuer":                                iss,
			"request_uri_parameter_supported":       false,
			"userinfo_endpoint":                     "https://graph.microsoft.com/oidc/userinfo",
			"authorization_endpoint":                base + "/oauth2/v2.0/authorize",
			"device_authorization_endpoint":         base + "/oauth2/v2.0/devicecode",
			"http_logout_supported":                 true,
			"frontchannel_logout_supported":         true,
			"end_session_endpoint":                  base + "/oauth2/v2.0/logout",
			"claims_supported":                      []string{"sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username", "name", "tid", "ver", "at_hash", "c_hash", "email"},
			"kerberos_endpoint":                     base + "/kerberos",
			"tenant_region_scope":                   nil,
			"cloud_instance_name":                   "microsoftonline.com",
			"cloud_graph_host_name":                 "graph.windows.net",
			"msgraph_host":                          "graph.microsoft.com",
			"rbac_url":                              "https://pas.windows.net",
		})
	case "discovery/v2.0/keys":
		k := m.signer.jwk()
		k["issuer"] = iss
		k["x5t"] = k["kid"]
		writeJSONAnswer(w, http.StatusOK, map[string]any{"keys": []any{k}})
	case "oauth2/v2.0/authorize":
		m.authorize(w, r)
	case "oauth2/v2.0/token":
		m.token(w, r)
	default:
		http.NotFound(w, r)
	}
}

func (m *Microsoft) authorize(w http.ResponseWriter, r *http.Request) {
	authorizeEndpoint{
		clientID: m.opts.ClientID, redirectURIs: m.opts.RedirectURIs, pagePrefix: "AADSTS50011: ",
		newCode: func() string { return "1.AR" + rand.Text() }, codeTTL: 10 * time.Minute,
		extra: func(url.Values) url.Values {
			return url.Values{"session_state": {"8f2b6b1c-0000-0000-0000-000000000000"}}
		},
		now: m.opts.Now, mu: &m.mu, codes: m.codes,
	}.serve(w, r.URL.Query())
}

func (m *Microsoft) token(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.ParseForm() != nil {
		aadError(w, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'.")
		return
	}
	id, secret := clientAuth(r)
	if id != m.opts.ClientID {
		aadError(w, http.StatusBadRequest, "unauthorized_client", 700016, "Application with identifier '"+id+"' was not found in the directory.")
		return
	}
	if !sameSecret(secret, m.opts.ClientSecret) {
		aadError(w, http.StatusUnauthorized, "invalid_client", 7000215, "Invalid client secret provided.")
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.opts.Now()
	var gr microsoftGrant
	nonce := ""
	switch r.PostForm.Get("grant_type") {
	case "authorization_code":
		c := redeemCode(m.codes, r.PostForm.Get("code"), now)
		if c == nil || c.redirectURI != r.PostForm.Get("redirect_uri") {
			aadError(w, http.StatusBadRequest, "invalid_grant", 70008, "The provided authorization code or refresh token has expired due to inactivity.")
			return
		}
		if !pkceOK(c.challenge, r.PostForm.Get("code_verifier")) {
			aadError(w, http.StatusBadRequest, "invalid_grant", 501481, "The Code_Verifier does not match the code_challenge supplied in the authorization request.")
			return
		}
		gr, nonce = microsoftGrant{clientID: id, scope: c.scope, user: m.user}, c.nonce
	case "refresh_token":
		old, ok := m.refresh[r.PostForm.Get("refresh_token")]
		if !ok || old.clientID != id {
			aadError(w, http.StatusBadRequest, "invalid_grant", 700082, "The refresh token has expired due to inactivity.")
			return
		}
		gr = old
	default:
		aadError(w, http.StatusBadRequest, "unsupported_grant_type", 70003, "The app requested an unsupported grant type.")
		return
	}
	gr.expires = now.Add(3599 * time.Second)
	tok := "eyJ0eXAiOiJKV1QiLCJub25jZSI6" + rand.Text() // Graph's access tokens are JWTs not meant for the app
	m.access[tok] = gr
	scopes := strings.Fields(gr.scope)
	ans := map[string]any{"token_type": "Bearer", "scope": "openid profile email https://graph.microsoft.com/User.Read",
		"expires_in": 3599, "ext_expires_in": 3599, "access_token": tok}
	if slices.Contains(scopes, "openid") {
		ans["id_token"] = m.idToken(id, nonce, gr.user)
	}
	if slices.Contains(scopes, "offline_access") {
		rt := "1.AR" + rand.Text()
		m.refresh[rt] = gr
		ans["refresh_token"] = rt
	}
	writeJSONAnswer(w, http.StatusOK, ans)
}

func (m *Microsoft) userinfo(w http.ResponseWriter, r *http.Request) {
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	m.mu.Lock()
	gr, ok := m.access[tok]
	m.mu.Unlock()
	if !ok || !m.opts.Now().Before(gr.expires) {
		writeJSONAnswer(w, http.StatusUnauthorized, map[string]any{"error": map[string]any{"code": "InvalidAuthenticationToken", "message": "Access token validation failure."}})
		return
	}
	u := gr.user
	given, family, _ := strings.Cut(u.Name, " ")
	writeJSONAnswer(w, http.StatusOK, map[string]any{
		"sub": u.Sub, "name": u.Name, "family_name": family, "given_name": given,
		"picture": "https://graph.microsoft.com/v1.0/me/photo/$value", "email": u.Email,
	})
}
