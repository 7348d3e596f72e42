package auth

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"

	jose "github.com/go-jose/go-jose/v4"
)

// LoadPublicKeys reads ServiceAccount token verification keys the way
// kube-apiserver's --service-account-key-file takes them: PEM files with
// public keys, certificates or private keys (their public half), RSA or
// ECDSA; and JWKS documents (a JSON {"keys": [...]}, as served at the
// issuer's /openid/v1/jwks), whose key IDs are kept.
func LoadPublicKeys(files ...string) ([]jose.JSONWebKey, error) {
	var out []jose.JSONWebKey
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		keys, err := ParsePublicKeys(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		out = append(out, keys...)
	}
	return out, nil
}

// ParsePublicKeys parses one file's content (PEM or JWKS).
func ParsePublicKeys(b []byte) ([]jose.JSONWebKey, error) {
	if t := bytes.TrimSpace(b); len(t) > 0 && t[0] == '{' {
		var set jose.JSONWebKeySet
		if err := json.Unmarshal(t, &set); err != nil {
			return nil, fmt.Errorf("not a JWKS document: %v", err)
		}
		var out []jose.JSONWebKey
		for _, k := range set.Keys {
			if k.Use != "" && k.Use != "sig" {
				continue
			}
			out = append(out, k.Public())
		}
		if len(out) == 0 {
			return nil, errors.New("JWKS holds no signing key")
		}
		return out, nil
	}
	var out []jose.JSONWebKey
	for {
		var block *pem.Block
		block, b = pem.Decode(b)
		if block == nil {
			break
		}
		k, err := pemPublicKey(block)
		if err != nil {
			return nil, err
		}
		if k != nil {
			out = append(out, jose.JSONWebKey{Key: k})
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no public key found (PEM public key, certificate, private key, or JWKS expected)")
	}
	return out, nil
}

func pemPublicKey(block *pem.Block) (crypto.PublicKey, error) {
	var k any
	var err error
	switch block.Type {
	case "PUBLIC KEY":
		k, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		k, err = x509.ParsePKCS1PublicKey(block.Bytes)
	case "CERTIFICATE":
		var c *x509.Certificate
		if c, err = x509.ParseCertificate(block.Bytes); err == nil {
			k = c.PublicKey
		}
	case "RSA PRIVATE KEY":
		var p *rsa.PrivateKey
		if p, err = x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
			k = p.Public()
		}
	case "EC PRIVATE KEY":
		var p *ecdsa.PrivateKey
		if p, err = x509.ParseECPrivateKey(block.Bytes); err == nil {
			k = p.Public()
		}
	case "PRIVATE KEY":
		var p any
		if p, err = x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
			if s, ok := p.(crypto.Signer); ok {
				k = s.Public()
			}
		}
	default:
		return nil, nil // e.g. EC PARAMETERS: skipped, as kube-apiserver does
	}
	if err != nil {
		return nil, fmt.Errorf("%s block: %v", block.Type, err)
	}
	switch k.(type) {
	case *rsa.PublicKey, *ecdsa.PublicKey:
		return k, nil
	}
	return nil, fmt.Errorf("%s block: unsupported key type %T (RSA or ECDSA expected)", block.Type, k)
}
