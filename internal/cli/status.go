package cli

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

// statusView mirrors GET /paddock/v1/status.
type statusView struct {
	DataPlane     string `json:"dataPlane"`
	LoadBalancers []struct {
		ID        string `json:"id"`
		Listeners []struct {
			Key      string `json:"key"`
			Address  string `json:"address"`
			Protocol string `json:"protocol"`
			Error    string `json:"error"`
			Backends []struct {
				Address string `json:"address"`
				Healthy bool   `json:"healthy"`
			} `json:"backends"`
		} `json:"listeners"`
		Notes []string `json:"notes"`
	} `json:"loadBalancers"`
}

func newStatus(conn *Conn) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show what the data plane serves: listeners, backends, and what it cannot do",
		RunE: func(cmd *cobra.Command, _ []string) error {
			return Status(cmd.Context(), *conn, cmd.OutOrStdout())
		},
	}
}

func (c Conn) httpClient() (*http.Client, error) {
	tr := &http.Transport{}
	if c.CAFile != "" && strings.HasPrefix(c.Endpoint, "https://") {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("read CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA file %s holds no certificate", c.CAFile)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool}
	}
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}, nil
}

// Status prints the data plane's listeners and notes.
func Status(ctx context.Context, conn Conn, out io.Writer) error {
	hc, err := conn.httpClient()
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(conn.Endpoint, "/")+"/paddock/v1/status", nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("status: %s: %s", resp.Status, b)
	}
	var v statusView
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		return fmt.Errorf("decode status: %w", err)
	}
	fmt.Fprintf(out, "data plane: %s\n", v.DataPlane)
	for _, lb := range v.LoadBalancers {
		fmt.Fprintf(out, "\n%s\n", lb.ID)
		tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  LISTENER\tPROTO\tBACKENDS (healthy/total)\tSTATE")
		for _, l := range lb.Listeners {
			healthy := 0
			for _, b := range l.Backends {
				if b.Healthy {
					healthy++
				}
			}
			state := "serving"
			if l.Error != "" {
				state = "FAILED: " + l.Error
			}
			fmt.Fprintf(tw, "  %s\t%s\t%d/%d\t%s\n", l.Address, l.Protocol, healthy, len(l.Backends), state)
		}
		tw.Flush()
		for _, n := range lb.Notes {
			fmt.Fprintf(out, "  note: %s\n", n)
		}
	}
	return nil
}
