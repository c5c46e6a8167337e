// A real Kubernetes control plane on loopback for tests: etcd, kube-apiserver and, optionally, controllers.
import { ChildProcess, execFileSync, spawn } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as https from "node:https";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import * as yaml from "js-yaml";

export function toolchainDir(): string {
    return process.env.KUBEMARK_TOOLCHAIN_DIR ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), ".cache"), "kubemark-toolchain");
}

/**
 * Where a control plane's binaries are: the node cluster's (the toolchain's bin/, Debian's etcd) by default, or a
 * release's target control plane as `npm run toolchain -- --control-plane <release>` lays it out (its etcd beside).
 */
export function controlPlaneBinaries(release?: string): { bin: string; etcd: string } {
    if (release === undefined) {
        return { bin: path.join(toolchainDir(), "bin"), etcd: "/usr/bin/etcd" };
    }
    const bin = path.join(toolchainDir(), "k8s", release, "bin");
    return { bin, etcd: path.join(bin, "etcd") };
}

/** Why the real-cluster tests cannot run here, or undefined when everything they need is installed. */
export function missingTools(targetReleases: readonly string[] = []): string | undefined {
    const bin = path.join(toolchainDir(), "bin");
    const wanted = ["kube-apiserver", "kube-controller-manager", "pulumi", "pulumi-language-nodejs", "pulumi-resource-kubernetes"]
        .map((b) => path.join(bin, b)).concat(["/usr/bin/etcd"])
        .concat(targetReleases.flatMap((r) => {
            const cp = controlPlaneBinaries(r);
            return [path.join(cp.bin, "kube-apiserver"), path.join(cp.bin, "kube-controller-manager"), cp.etcd];
        }));
    const missing = wanted.filter((f) => !fs.existsSync(f));
    return missing.length > 0 ? `missing ${missing.join(", ")}: run npm run toolchain` : undefined;
}

async function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const srv = net.createServer();
        srv.listen(0, "127.0.0.1", () => {
            const port = (srv.address() as net.AddressInfo).port;
            srv.close(() => resolve(port));
        });
        srv.on("error", reject);
    });
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
        if (await check().catch(() => false)) {
            return;
        }
        await new Promise((r) => setTimeout(r, 300));
    }
    throw new Error(`${what} not ready within ${timeoutMs / 1000}s`);
}

export class ControlPlane {
    readonly kubeconfigFile: string;
    readonly kubeconfig: string;
    readonly server: string;
    private etcd?: ChildProcess;
    private apiserver?: ChildProcess;
    private controllers?: ChildProcess;

    private constructor(private readonly dir: string, private readonly ports: { etcd: number; peer: number; api: number },
        private readonly token: string, private readonly binaries: { bin: string; etcd: string }) {
        this.server = `https://127.0.0.1:${ports.api}`;
        this.kubeconfig = yaml.dump({
            apiVersion: "v1", kind: "Config", "current-context": "test",
            clusters: [{ name: "test", cluster: { server: this.server, "insecure-skip-tls-verify": true } }],
            users: [{ name: "admin", user: { token } }],
            contexts: [{ name: "test", context: { cluster: "test", user: "admin" } }],
        });
        this.kubeconfigFile = path.join(dir, "admin.kubeconfig");
        fs.writeFileSync(this.kubeconfigFile, this.kubeconfig, { mode: 0o600 });
    }

    /**
     * Starts etcd and kube-apiserver, and the controllers asked for: a node cluster's (workloads), a target's
     * (CSR approver and signer, namespace and garbage collection), or none (the bench's bare API server). Of the
     * node cluster's release, or of `release` (a target control plane of the toolchain's).
     */
    static async start(name: string, controllers: "workloads" | "target" | "none", release?: string): Promise<ControlPlane> {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), `cp-${name}-`));
        const token = randomBytes(16).toString("hex");
        fs.writeFileSync(path.join(dir, "tokens.csv"), `${token},admin,admin,"system:masters"\n`, { mode: 0o600 });
        const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
        fs.writeFileSync(path.join(dir, "sa.key"), privateKey.export({ type: "pkcs1", format: "pem" }), { mode: 0o600 });
        fs.writeFileSync(path.join(dir, "sa.pub"), publicKey.export({ type: "spki", format: "pem" }));
        // A client CA, as real clusters have: the csrsigning controller signs kubelet certificates with it.
        execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", path.join(dir, "ca.key"), "-out", path.join(dir, "ca.crt"), "-subj", `/CN=${name}-client-ca`, "-days", "2"], { stdio: "ignore" });
        const cp = new ControlPlane(dir, { etcd: await freePort(), peer: await freePort(), api: await freePort() }, token,
            controlPlaneBinaries(release));
        cp.startEtcd();
        await cp.startApiserver();
        if (controllers !== "none") {
            cp.startControllers(controllers === "workloads");
        }
        return cp;
    }

    private run(name: string, cmd: string, args: string[]): ChildProcess {
        const log = fs.openSync(path.join(this.dir, `${name}.log`), "a");
        return spawn(cmd, args, { stdio: ["ignore", log, log] });
    }

    private startEtcd(): void {
        const { etcd, peer } = this.ports;
        this.etcd = this.run("etcd", this.binaries.etcd, [
            "--name=test", `--data-dir=${path.join(this.dir, "etcd")}`,
            `--listen-client-urls=http://127.0.0.1:${etcd}`, `--advertise-client-urls=http://127.0.0.1:${etcd}`,
            `--listen-peer-urls=http://127.0.0.1:${peer}`, `--initial-advertise-peer-urls=http://127.0.0.1:${peer}`,
            `--initial-cluster=test=http://127.0.0.1:${peer}`,
        ]);
    }

    async startApiserver(): Promise<void> {
        this.apiserver = this.run("kube-apiserver", path.join(this.binaries.bin, "kube-apiserver"), [
            `--etcd-servers=http://127.0.0.1:${this.ports.etcd}`,
            "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", `--secure-port=${this.ports.api}`,
            // No `kubernetes` Service endpoints: nothing here uses them, and from v1.37 the API server refuses to
            // publish a loopback address there at start (before, it failed to every 10 s).
            "--endpoint-reconciler-type=none",
            `--cert-dir=${path.join(this.dir, "certs")}`, `--token-auth-file=${path.join(this.dir, "tokens.csv")}`,
            // As on real clusters: kubelets' certificates confine them to their own Node (Node authorizer,
            // NodeRestriction).
            "--authorization-mode=Node,RBAC", "--enable-admission-plugins=NodeRestriction",
            `--client-ca-file=${path.join(this.dir, "ca.crt")}`, "--service-cluster-ip-range=10.96.0.0/24",
            // As kubeadm and most clusters do: hollow kubelets and the inotify init container run privileged.
            "--allow-privileged=true",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            `--service-account-key-file=${path.join(this.dir, "sa.pub")}`,
            `--service-account-signing-key-file=${path.join(this.dir, "sa.key")}`,
        ]);
        await waitFor(`kube-apiserver ${this.server}`, () => new Promise<boolean>((resolve) => {
            // The API server serves a self-signed certificate it made itself in --cert-dir.
            https.get(`${this.server}/readyz`, { headers: { Authorization: `Bearer ${this.token}` }, rejectUnauthorized: false },
                (res) => { res.resume(); resolve(res.statusCode === 200); }).on("error", () => resolve(false));
        }), 90_000);
    }

    /** Stops the API server only (etcd keeps the data): a target cluster going away and coming back. */
    async stopApiserver(): Promise<void> {
        await stop(this.apiserver);
        this.apiserver = undefined;
    }

    /**
     * The CSR approver and signer, and what destroy relies on (namespace deletion, foreground deletion), always run; a
     * workload's controllers only when asked for.
     */
    private startControllers(workloads: boolean): void {
        const { bin } = this.binaries;
        // No node lifecycle controller: the test's Nodes have no kubelet heartbeating for them.
        const controllers = workloads ? "garbagecollector,namespace,serviceaccount,statefulset,deployment,replicaset,replicationcontroller,csrapproving,csrsigning" : "garbagecollector,namespace,csrapproving,csrsigning";
        this.controllers = this.run("kube-controller-manager", path.join(bin, "kube-controller-manager"), [
            `--kubeconfig=${this.kubeconfigFile}`, "--leader-elect=false", "--secure-port=0", `--controllers=${controllers}`,
            `--service-account-private-key-file=${path.join(this.dir, "sa.key")}`,
            `--cluster-signing-cert-file=${path.join(this.dir, "ca.crt")}`, `--cluster-signing-key-file=${path.join(this.dir, "ca.key")}`,
        ]);
    }

    async stop(): Promise<void> {
        await stop(this.controllers);
        await stop(this.apiserver);
        await stop(this.etcd);
        fs.rmSync(this.dir, { recursive: true, force: true });
    }
}

/** Stops a process the harness started: SIGTERM, then SIGKILL after 10 s. */
export async function stop(p?: ChildProcess): Promise<void> {
    if (!p || p.exitCode !== null) {
        return;
    }
    const exited = new Promise((r) => p.once("exit", r));
    p.kill("SIGTERM");
    const timer = setTimeout(() => p.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
}
