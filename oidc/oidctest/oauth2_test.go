package oidctest

import (
	"context"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// TestWithXOAuth2 runs the flow with the client library the oidc package
// uses, in both auth styles, with a secret that needs form-encoding.
func TestWithXOAuth2(t *testing.T) {
	for _, style := range []oauth2.AuthStyle{oauth2.AuthStyleInHeader, oauth2.AuthStyleInParams} {
		op := newTestServer(t)
		cfg := oauth2.Config{
			ClientID: testClient, ClientSecret: testSecret, RedirectURL: testRedirect,
			Scopes: []string{"openid", "email"},
			Endpoint: oauth2.Endpoint{AuthURL: op.EndpointURL(AuthorizeEndpoint),
				TokenURL: op.EndpointURL(TokenEndpoint), AuthStyle: style},
		}
		verifier := oauth2.GenerateVerifier()
		back, err := op.Login(cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier),
			oauth2.SetAuthURLParam("nonce", "n")), testEmail)
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.WithValue(t.Context(), oauth2.HTTPClient, op.Client())
		tok, err := cfg.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatalf("style %v: %v", style, err)
		}
		if tok.Extra("id_token") == nil || tok.RefreshToken == "" {
			t.Errorf("style %v: token %+v", style, tok)
		}
		tok.Expiry = time.Now().Add(-time.Minute) // make the source refresh
		if _, err := cfg.TokenSource(ctx, tok).Token(); err != nil {
			t.Errorf("style %v: refresh: %v", style, err)
		}
		want := map[oauth2.AuthStyle]string{oauth2.AuthStyleInHeader: "client_secret_basic", oauth2.AuthStyleInParams: "client_secret_post"}[style]
		for _, r := range op.Requests().TokenRequests {
			if r.ClientAuth != want || r.Error != "" {
				t.Errorf("style %v: recorded %+v", style, r)
			}
		}
	}
}
