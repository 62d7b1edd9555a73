// Package cli is the `paddock` command tree beside `serve`: what the az CLI
// and Terraform do not cover — the health of load-balancing rules as the
// data plane sees it, and the environment clients need to talk to Paddock.
// It talks to the server with the Azure SDK for Go, like any client, and
// writes to injected streams so tests can drive it.
package cli

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/network/armnetwork/v9"
	"github.com/spf13/cobra"
)

// DefaultSubscription is the subscription the CLI uses unless told.
const DefaultSubscription = "00000000-0000-0000-0000-000000000001"

// Conn says how to reach a Paddock server.
type Conn struct {
	Endpoint     string
	Subscription string
	CAFile       string
}

// staticToken is a credential for a server that accepts any token.
type staticToken struct{}

func (staticToken) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: "paddock", ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// ClientFactory returns an armnetwork client factory for the server.
func (c Conn) ClientFactory() (*armnetwork.ClientFactory, error) {
	endpoint := strings.TrimSuffix(c.Endpoint, "/")
	hc, err := c.httpClient()
	if err != nil {
		return nil, err
	}
	hc.Timeout = time.Minute
	opts := &arm.ClientOptions{
		ClientOptions: policy.ClientOptions{
			Cloud: cloud.Configuration{Services: map[cloud.ServiceName]cloud.ServiceConfiguration{
				cloud.ResourceManager: {Endpoint: endpoint, Audience: endpoint},
			}},
			Transport:                       hc,
			InsecureAllowCredentialWithHTTP: strings.HasPrefix(endpoint, "http://"),
			Retry:                           policy.RetryOptions{MaxRetries: 1},
		},
		DisableRPRegistration: true,
	}
	return armnetwork.NewClientFactory(c.Subscription, staticToken{}, opts)
}

// AddCommands adds the client commands to root.
func AddCommands(root *cobra.Command, defaultDataDir string) {
	conn := &Conn{}
	pf := root.PersistentFlags()
	pf.StringVar(&conn.Endpoint, "endpoint", "https://127.0.0.1:8443", "Paddock server URL")
	pf.StringVar(&conn.Subscription, "subscription", DefaultSubscription, "subscription id")
	pf.StringVar(&conn.CAFile, "ca-file", filepath.Join(defaultDataDir, "tls-cert.pem"), "CA certificate of the server (printed by paddock serve)")
	root.AddCommand(newHealth(conn), newStatus(conn), newEnv(conn))
}

func newHealth(conn *Conn) *cobra.Command {
	var group, lb, rule string
	cmd := &cobra.Command{
		Use:   "health",
		Short: "Show which backends of a load balancer's rules are up, and why",
		Long: "health asks the server for the health of each load-balancing rule (POST .../loadBalancingRules/{rule}/health)\n" +
			"and prints every backend with its state and the reason of its last probe result.",
		RunE: func(cmd *cobra.Command, _ []string) error {
			return Health(cmd.Context(), *conn, group, lb, rule, cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVarP(&group, "resource-group", "g", "", "resource group (required)")
	cmd.Flags().StringVar(&lb, "lb", "", "load balancer name (required)")
	cmd.Flags().StringVar(&rule, "rule", "", "one rule (default: every rule)")
	_ = cmd.MarkFlagRequired("resource-group")
	_ = cmd.MarkFlagRequired("lb")
	return cmd
}

// Health prints the backends of one or every rule of a load balancer.
func Health(ctx context.Context, conn Conn, group, lb, rule string, out io.Writer) error {
	f, err := conn.ClientFactory()
	if err != nil {
		return err
	}
	rules := f.NewLoadBalancerLoadBalancingRulesClient()
	var names []string
	if rule != "" {
		names = []string{rule}
	} else {
		pager := rules.NewListPager(group, lb, nil)
		for pager.More() {
			page, err := pager.NextPage(ctx)
			if err != nil {
				return err
			}
			for _, r := range page.Value {
				if r.Name != nil {
					names = append(names, *r.Name)
				}
			}
		}
		sort.Strings(names)
	}
	tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RULE\tBACKEND\tIPCONFIG\tSTATE\tREASON")
	for _, name := range names {
		poller, err := rules.BeginHealth(ctx, group, lb, name, nil)
		if err != nil {
			return err
		}
		res, err := poller.PollUntilDone(ctx, &runtime.PollUntilDoneOptions{Frequency: time.Second})
		if err != nil {
			return err
		}
		if len(res.LoadBalancerBackendAddresses) == 0 {
			fmt.Fprintf(tw, "%s\t-\t-\t-\tno backends\n", name)
		}
		for _, b := range res.LoadBalancerBackendAddresses {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", name, str(b.IPAddress), shortID(str(b.NetworkInterfaceIPConfigurationID)), str(b.State), str(b.Reason))
		}
	}
	return tw.Flush()
}

func str(p *string) string {
	if p == nil || *p == "" {
		return "-"
	}
	return *p
}

func shortID(id string) string {
	parts := strings.Split(id, "/")
	if len(parts) >= 3 && strings.EqualFold(parts[len(parts)-2], "ipConfigurations") {
		return parts[len(parts)-3] + "/" + parts[len(parts)-1]
	}
	return id
}

func newEnv(conn *Conn) *cobra.Command {
	return &cobra.Command{
		Use:   "env",
		Short: "Print the shell exports that point Azure clients at Paddock",
		RunE: func(cmd *cobra.Command, _ []string) error {
			return Env(*conn, cmd.OutOrStdout())
		},
	}
}

// Env prints shell exports for the Go SDK, the az CLI and Terraform.
func Env(conn Conn, out io.Writer) error {
	ca, err := filepath.Abs(conn.CAFile)
	if err != nil {
		return err
	}
	endpoint := strings.TrimSuffix(conn.Endpoint, "/")
	host := strings.TrimPrefix(strings.TrimPrefix(endpoint, "https://"), "http://")
	fmt.Fprintf(out, "# Trust Paddock's certificate (Go SDK and Terraform read SSL_CERT_FILE, the az CLI REQUESTS_CA_BUNDLE)\n")
	fmt.Fprintf(out, "export SSL_CERT_FILE=%s\nexport REQUESTS_CA_BUNDLE=%s\n", ca, ca)
	fmt.Fprintf(out, "# Terraform azurerm: metadata host and subscription\n")
	fmt.Fprintf(out, "export ARM_METADATA_HOSTNAME=%s\nexport ARM_SUBSCRIPTION_ID=%s\n", host, conn.Subscription)
	fmt.Fprintf(out, "# az CLI: az cloud register -n Paddock --endpoint-resource-manager %s/ && az cloud set -n Paddock\n", endpoint)
	fmt.Fprintf(out, "# Go SDK: cloud.Configuration{Services: {cloud.ResourceManager: {Endpoint: %q, Audience: %q}}}\n", endpoint, endpoint)
	return nil
}
