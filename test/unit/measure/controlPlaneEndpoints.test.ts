// measure/metrics/controlPlaneEndpoints: where each component's /metrics is, read with no credential ever showing.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Kube } from "../../../measure/kube";
import { ControlPlaneRecorder } from "../../../measure/metrics/controlPlane";
import { healthEndpoints, publicUrl, redact } from "../../../measure/metrics/controlPlaneEndpoints";
import { healthMarkdown, healthRows } from "../../../measure/metrics/controlPlaneReport";
import { A1 } from "../../harness/controlPlaneScrapes";

describe("healthEndpoints", () => {
    const cases: [string, string, Parameters<typeof healthEndpoints>[1], ReturnType<typeof healthEndpoints>][] = [
        [
            "kubeadm's ports on the API server's host",
            "https://10.245.0.1:6443",
            {},
            {
                etcd: "http://10.245.0.1:2381/metrics",
                scheduler: "https://10.245.0.1:10259/metrics",
                controllerManager: "https://10.245.0.1:10257/metrics",
            },
        ],
        [
            "given URLs win",
            "https://10.245.0.1:6443",
            {
                etcdMetricsUrl: "http://127.0.0.1:22479/metrics",
                schedulerMetricsUrl: "https://127.0.0.1:20359/metrics",
                controllerManagerMetricsUrl: "https://127.0.0.1:20357/metrics",
            },
            {
                etcd: "http://127.0.0.1:22479/metrics",
                scheduler: "https://127.0.0.1:20359/metrics",
                controllerManager: "https://127.0.0.1:20357/metrics",
            },
        ],
        [
            "an IPv6 host keeps its brackets",
            "https://[fd00::1]:6443",
            { schedulerMetricsUrl: "https://[fd00::1]:1/m" },
            {
                etcd: "http://[fd00::1]:2381/metrics",
                scheduler: "https://[fd00::1]:1/m",
                controllerManager: "https://[fd00::1]:10257/metrics",
            },
        ],
    ];
    for (const [name, server, given, want] of cases) {
        it(name, () => assert.deepEqual(healthEndpoints(server, given), want));
    }
});

describe("credentials never show", () => {
    const KEY =
        "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIVERYSECRETKEYMATERIALthatmustnotleak0123456789abcdef\n-----END EC PRIVATE KEY-----\n";
    const TOKEN = "sekret-bearer-token-0123456789";
    const b64 = (s: string) => Buffer.from(s).toString("base64");
    const kubeconfig = `apiVersion: v1
kind: Config
current-context: t
contexts: [{name: t, context: {cluster: t, user: t}}]
clusters: [{name: t, cluster: {server: "https://127.0.0.1:6443", certificate-authority-data: ${b64("not a CA")}}}]
users: [{name: t, user: {token: ${TOKEN}, client-certificate-data: ${b64("not a cert")}, client-key-data: ${b64(KEY)}}}]
`;
    const fakeApi: Kube = {
        server: "https://127.0.0.1:6443",
        text: async () => ({ status: 200, body: A1 }),
        json: async () => {
            throw new Error("unused");
        },
        maybe: async () => {
            throw new Error("unused");
        },
        kubeConfig: () => {
            throw new Error("unused");
        },
    };
    it("a recorder whose endpoints fail says why, and nothing it holds leaks", async () => {
        const logs: string[] = [];
        // Port 1 on loopback refuses at once: no server is started.
        const r = new ControlPlaneRecorder(
            fakeApi,
            kubeconfig,
            {
                etcd: "http://127.0.0.1:1/metrics",
                scheduler: "https://127.0.0.1:1/metrics",
                controllerManager: "https://u:pw-0123456789@127.0.0.1:1/metrics?token=abcdefghij",
            },
            Date.now(),
            (m) => logs.push(m),
        );
        await r.start(60_000);
        const h = await r.stop();
        const text = JSON.stringify(h) + logs.join("\n") + healthMarkdown(h).join("\n") + JSON.stringify(healthRows(h));
        for (const secret of [KEY, "VERYSECRETKEYMATERIAL", TOKEN, b64(KEY), "pw-0123456789", "abcdefghij"]) {
            assert.ok(!text.includes(secret), `leaked ${secret.slice(0, 20)}`);
        }
        const by = Object.fromEntries(h.components.map((c) => [c.component, c]));
        assert.equal(by["kube-apiserver"].readable, true);
        assert.match(by.etcd.why ?? "", /^not readable: .*; pass --etcd-metrics-url$/);
        assert.match(by["kube-scheduler"].why ?? "", /^not readable: .*; pass --scheduler-metrics-url$/);
        assert.match(by["kube-controller-manager"].why ?? "", /pass --controller-manager-metrics-url$/);
        assert.equal(by["kube-controller-manager"].source, "https://127.0.0.1:1/metrics");
        assert.ok(h.host.measured, "the API server is on loopback: the host is measured");
        assert.ok(logs.some((l) => /kube-scheduler not readable/.test(l)));
    });
    it("redact takes out the whole secret and each line of a key", () => {
        assert.equal(redact(`a ${TOKEN} b`, [TOKEN]), "a [redacted] b");
        assert.ok(
            !redact("x MHcCAQEEIVERYSECRETKEYMATERIALthatmustnotleak0123456789abcdef y", [KEY]).includes("VERYSECRET"),
        );
    });
    it("publicUrl drops user, password and query", () =>
        assert.equal(publicUrl("https://u:p@h:1/metrics?token=x"), "https://h:1/metrics"));
});
