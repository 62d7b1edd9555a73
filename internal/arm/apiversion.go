package arm

import (
	"slices"
	"strings"
)

// Namespaces Paddock serves.
const (
	NamespaceNetwork   = "Microsoft.Network"
	NamespaceCompute   = "Microsoft.Compute"
	NamespaceResources = "Microsoft.Resources"
)

// NetworkAPIVersions are the stable Microsoft.Network api-versions from
// 2020-05-01 to 2026-01-01, oldest first.
var networkAPIVersions = []string{
	"2020-05-01", "2020-06-01", "2020-07-01", "2020-08-01", "2020-11-01",
	"2021-02-01", "2021-03-01", "2021-05-01", "2021-08-01",
	"2022-01-01", "2022-05-01", "2022-07-01", "2022-09-01", "2022-11-01",
	"2023-02-01", "2023-04-01", "2023-05-01", "2023-06-01", "2023-09-01", "2023-11-01",
	"2024-01-01", "2024-03-01", "2024-05-01", "2024-07-01", "2024-10-01",
	"2025-01-01", "2025-03-01", "2025-05-01", "2025-07-01", "2025-10-01", "2025-12-01",
	"2026-01-01",
}

var computeAPIVersions = []string{
	"2019-07-01", "2019-12-01", "2020-06-01", "2020-12-01", "2021-03-01", "2021-04-01",
	"2021-07-01", "2021-11-01", "2022-03-01", "2022-08-01", "2022-11-01", "2023-03-01",
	"2023-07-01", "2023-09-01", "2024-03-01", "2024-07-01", "2024-11-01", "2025-04-01",
}

var resourcesAPIVersions = []string{
	"2016-09-01", "2018-05-01", "2019-05-01", "2019-06-01", "2019-07-01", "2019-08-01", "2019-10-01",
	"2019-11-01", "2020-01-01", "2020-06-01", "2020-08-01", "2020-10-01", "2021-01-01", "2021-04-01",
	"2022-01-01", "2022-09-01", "2022-12-01", "2023-07-01", "2024-03-01", "2024-07-01", "2024-11-01", "2025-03-01", "2025-04-01",
}

// APIVersions returns the api-versions Paddock accepts for a namespace,
// oldest first.
func APIVersions(namespace string) []string {
	switch strings.ToLower(namespace) {
	case "microsoft.network":
		return networkAPIVersions
	case "microsoft.compute":
		return computeAPIVersions
	case "microsoft.resources":
		return resourcesAPIVersions
	}
	return nil
}

// SupportsAPIVersion reports whether v is accepted for the namespace.
func SupportsAPIVersion(namespace, v string) bool {
	return slices.Contains(APIVersions(namespace), v)
}

// LatestNetworkAPIVersion is the newest Microsoft.Network api-version served.
const LatestNetworkAPIVersion = "2026-01-01"

// APIVersion is a dated api-version ("2020-05-01"); the zero value sorts
// before every version. Versions compare as strings.
type APIVersion string

// AtLeast reports whether v is the same as or newer than min.
func (v APIVersion) AtLeast(min string) bool { return string(v) >= min }
