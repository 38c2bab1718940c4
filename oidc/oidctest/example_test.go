package oidctest_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/edgeauth/edgeauth/oidc/oidctest"
)

func ExampleNewServer() {
	op := oidctest.NewServer(oidctest.Options{Clients: []oidctest.Client{
		{ID: "app", Secret: "s3cret", RedirectURIs: []string{"https://app.example/callback"}},
	}})
	defer op.Close()

	// The relying party's authorization URL, with S256 PKCE.
	verifier := "a-code-verifier-of-forty-three-characters-or-more"
	sum := sha256.Sum256([]byte(verifier))
	authURL := op.EndpointURL(oidctest.AuthorizeEndpoint) + "?" + url.Values{
		"client_id": {"app"}, "redirect_uri": {"https://app.example/callback"}, "response_type": {"code"},
		"scope": {"openid email"}, "state": {"xyz"}, "nonce": {"n-1"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"},
	}.Encode()

	// Jane signs in; the browser would land on the callback.
	back, err := op.Login(authURL, "jane@example.com")
	if err != nil {
		panic(err)
	}
	fmt.Println(back.Query().Get("state"), back.Query().Get("iss") == op.Issuer())

	// The relying party redeems the code.
	form := url.Values{"grant_type": {"authorization_code"}, "code": {back.Query().Get("code")},
		"code_verifier": {verifier}, "redirect_uri": {"https://app.example/callback"}}
	req, _ := http.NewRequest(http.MethodPost, op.EndpointURL(oidctest.TokenEndpoint), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("app", "s3cret")
	resp, err := op.Client().Do(req)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	var tok struct {
		TokenType string `json:"token_type"`
		IDToken   string `json:"id_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil {
		panic(err)
	}
	fmt.Println(tok.TokenType, tok.IDToken != "")
	fmt.Println(op.Requests().TokenRequests[0].ClientAuth)
	// Output:
	// xyz true
	// Bearer true
	// client_secret_basic
}
