// Which kubeconfigs the providers serve without loading @kubernetes/client-node, and the credentials they send.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as yaml from "js-yaml";
import { inlineCredentials } from "../../components/kube/http";

const kubeconfig = (cluster: Record<string, unknown>, user: Record<string, unknown>) => yaml.dump({
    apiVersion: "v1", kind: "Config", "current-context": "c",
    clusters: [{ name: "c", cluster: { server: "https://10.0.0.1:6443", ...cluster } }],
    users: [{ name: "u", user }],
    contexts: [{ name: "c", context: { cluster: "c", user: "u" } }],
});

describe("inlineCredentials", () => {
    it("takes a token and the CA as data", () => {
        const c = inlineCredentials(kubeconfig({ "certificate-authority-data": Buffer.from("CA").toString("base64") }, { token: "t0k" }));
        assert.equal(c?.server, "https://10.0.0.1:6443");
        assert.equal(c?.authorization, "Bearer t0k");
        assert.equal(c?.ca?.toString(), "CA");
        assert.equal(c?.insecure, false);
    });
    it("takes a client certificate and key as data, and a TLS server name", () => {
        const c = inlineCredentials(kubeconfig({ "tls-server-name": "api.lab" }, {
            "client-certificate-data": Buffer.from("CERT").toString("base64"), "client-key-data": Buffer.from("KEY").toString("base64"),
        }));
        assert.equal(c?.cert?.toString(), "CERT");
        assert.equal(c?.key?.toString(), "KEY");
        assert.equal(c?.serverName, "api.lab");
        assert.equal(c?.authorization, undefined);
    });
    it("takes basic auth and insecure-skip-tls-verify", () => {
        const c = inlineCredentials(kubeconfig({ "insecure-skip-tls-verify": true }, { username: "admin", password: "pw" }));
        assert.equal(c?.authorization, `Basic ${Buffer.from("admin:pw").toString("base64")}`);
        assert.equal(c?.insecure, true);
    });
    const library: [string, Record<string, unknown>, Record<string, unknown>][] = [
        ["an exec plugin", {}, { exec: { command: "aws", apiVersion: "client.authentication.k8s.io/v1" } }],
        ["an auth provider", {}, { "auth-provider": { name: "oidc" } }],
        ["a token file", {}, { tokenFile: "/var/run/token" }],
        ["a CA file", { "certificate-authority": "/etc/ca.crt" }, { token: "t" }],
        ["a proxy", { "proxy-url": "http://proxy:3128" }, { token: "t" }],
        ["impersonation", {}, { token: "t", as: "someone" }],
    ];
    for (const [what, cluster, user] of library) {
        it(`leaves ${what} to the library`, () => assert.equal(inlineCredentials(kubeconfig(cluster, user)), undefined));
    }
});
