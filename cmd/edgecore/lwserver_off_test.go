//go:build nolwserver

package main

// haveLWServer: built with -tags nolwserver, no Kubernetes API is served.
const haveLWServer = false
