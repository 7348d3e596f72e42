//go:build !nolwserver

package main

// haveLWServer: this build serves the Kubernetes API.
const haveLWServer = true
