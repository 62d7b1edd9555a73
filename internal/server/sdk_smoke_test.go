package server_test

import "testing"

func TestSDKSmoke(t *testing.T) {
	e := newEnv(t)
	e.group("rg1")
	e.vnet("rg1", "v1", "s1")
}
