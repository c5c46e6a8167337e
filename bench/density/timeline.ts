// Where the density run's `up` and `destroy` spend their time, from what the clusters, the worker's containerd and
// the Pulumi CLI record: pod sandbox and container starts and stops, image pulls, certificate issuance, Node
// registration, readiness and deletes, and each resource's step. Measurement only; it changes nothing it watches.
import * as k8s from "@kubernetes/client-node";
import * as fs from "node:fs";
import * as path from "node:path";
import { kubeconfigFile, LAB } from "../../lab/lab";

type Ms = number;
interface PodTimes { created?: Ms; ready?: Ms; deleting?: Ms; deleted?: Ms; started: Map<string, Ms> }
interface NodeTimes { created?: Ms; ready?: Ms; deleted?: Ms }
interface CsrTimes { created?: Ms; approved?: Ms; issued?: Ms; deleted?: Ms }
interface EventSeen { reason: string; object: string; field: string; message: string; count: number; first: Ms; last: Ms }

const time = (t?: Date | string) => (t ? new Date(t).getTime() : undefined);
const condition = (o: any, type: string) => (o?.status?.conditions ?? []).find((c: any) => c.type === type);

/** Watches (re-established if the server drops them) that keep the first time each thing was seen to happen. */
export class Timeline {
    readonly pods = new Map<string, PodTimes>();
    readonly nodes = new Map<string, NodeTimes>();
    readonly csrs = new Map<string, CsrTimes>();
    readonly leases = new Map<string, { deleted?: Ms }>();
    readonly events = new Map<string, EventSeen>();
    /** Watches that ended (by the server or an error) and were started again: deletes in such a gap are missed. */
    restarts = 0;
    private readonly stops: (() => void)[] = [];
    private stopped = false;

    constructor(private readonly namespace: string, private readonly selector: string, private readonly leasePrefix: string) {}

    start(): void {
        this.watch("node", `/api/v1/namespaces/${this.namespace}/pods`, {}, (phase, o) => this.pod(phase, o));
        this.watch("node", `/api/v1/namespaces/${this.namespace}/events`, {}, (_, o) => this.event(o));
        this.watch("target", "/api/v1/nodes", { labelSelector: this.selector }, (phase, o) => this.node(phase, o));
        this.watch("target", "/apis/certificates.k8s.io/v1/certificatesigningrequests", { labelSelector: this.selector }, (phase, o) => this.csr(phase, o));
    }

    /** Leases change every 10 s per Node: watched only for the destroy, which deletes them. */
    watchLeases(): void {
        this.watch("target", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases", {}, (phase, o) => {
            const name = o?.metadata?.name as string;
            if (name?.startsWith(this.leasePrefix) && phase === "DELETED") {
                this.leases.set(name, { deleted: Date.now() });
            }
        });
    }

    stop(): void {
        this.stopped = true;
        this.stops.forEach((s) => s());
    }

    private watch(cluster: "node" | "target", url: string, query: Record<string, string>, on: (phase: string, o: any) => void): void {
        const kc = new k8s.KubeConfig();
        kc.loadFromFile(kubeconfigFile(cluster));
        let controller: AbortController | undefined;
        const begin = () => {
            if (this.stopped) {
                return;
            }
            new k8s.Watch(kc).watch(url, query, (phase, o) => {
                try {
                    on(phase, o);
                } catch {
                    // A malformed object is not worth the measurement.
                }
            }, () => {
                if (!this.stopped) {
                    this.restarts++;
                    setTimeout(begin, 1000);
                }
            }).then((c) => { controller = c; }, () => {
                if (!this.stopped) {
                    this.restarts++;
                    setTimeout(begin, 1000);
                }
            });
        };
        begin();
        this.stops.push(() => controller?.abort());
    }

    private pod(phase: string, o: any): void {
        const name = o.metadata.name as string;
        const t: PodTimes = this.pods.get(name) ?? { started: new Map() };
        t.created ??= time(o.metadata.creationTimestamp);
        for (const c of o.status?.containerStatuses ?? []) {
            const at = time(c.state?.running?.startedAt);
            if (at && !t.started.has(c.name)) {
                t.started.set(c.name, at);
            }
        }
        const ready = condition(o, "Ready");
        if (ready?.status === "True") {
            t.ready ??= time(ready.lastTransitionTime);
        }
        if (o.metadata.deletionTimestamp) {
            t.deleting ??= Date.now();
        }
        if (phase === "DELETED") {
            t.deleted ??= Date.now();
        }
        this.pods.set(name, t);
    }

    private event(o: any): void {
        this.events.set(o.metadata.uid, {
            reason: o.reason, object: o.involvedObject?.name ?? "", field: o.involvedObject?.fieldPath ?? "", message: o.message ?? "",
            count: o.count ?? 1, first: time(o.firstTimestamp ?? o.eventTime) ?? 0, last: time(o.lastTimestamp ?? o.eventTime) ?? 0,
        });
    }

    private node(phase: string, o: any): void {
        const name = o.metadata.name as string;
        const t: NodeTimes = this.nodes.get(name) ?? {};
        t.created ??= time(o.metadata.creationTimestamp);
        const ready = condition(o, "Ready");
        if (ready?.status === "True") {
            t.ready ??= time(ready.lastTransitionTime);
        }
        if (phase === "DELETED") {
            t.deleted ??= Date.now();
        }
        this.nodes.set(name, t);
    }

    private csr(phase: string, o: any): void {
        const name = o.metadata.name as string;
        const t: CsrTimes = this.csrs.get(name) ?? {};
        t.created ??= time(o.metadata.creationTimestamp);
        const approved = condition(o, "Approved");
        if (approved) {
            t.approved ??= time(approved.lastUpdateTime ?? approved.lastTransitionTime);
        }
        if (o.status?.certificate) {
            t.issued ??= Date.now();
        }
        if (phase === "DELETED") {
            t.deleted ??= Date.now();
        }
        this.csrs.set(name, t);
    }
}

/** One call of the worker's containerd (CRI), from its log: what, for which object, when it began and returned. */
export interface CriCall { op: string; key: string; start: Ms; end?: Ms; detail: string }

/**
 * The CRI calls in the lab containerd's log between two times: RunPodSandbox, CreateContainer, StartContainer,
 * PullImage, StopContainer, StopPodSandbox, RemovePodSandbox, each with its start and its "returns" line.
 */
export function criCalls(from: Ms, to: Ms, log = path.join(LAB, "logs", "containerd.log")): CriCall[] {
    const open = new Map<string, CriCall>();
    const calls: CriCall[] = [];
    const patterns: [string, RegExp, RegExp][] = [
        ["RunPodSandbox", /^RunPodSandbox for &PodSandboxMetadata\{Name:([^,]+),.*?\}$/, /^RunPodSandbox for &PodSandboxMetadata\{Name:([^,]+),.*returns sandbox id/],
        ["CreateContainer", /^CreateContainer within sandbox "(\w+)" for container &ContainerMetadata\{Name:([^,]+),/, /^CreateContainer within sandbox "(\w+)" for &ContainerMetadata\{Name:([^,]+),.*returns container id/],
        ["StartContainer", /^StartContainer for "(\w+)"$/, /^StartContainer for "(\w+)" returns successfully/],
        ["PullImage", /^PullImage "([^"]+)"$/, /^PullImage "([^"]+)" returns image reference/],
        ["StopContainer", /^StopContainer for "(\w+)" with timeout (\d+)/, /^StopContainer for "(\w+)" returns successfully/],
        ["StopPodSandbox", /^StopPodSandbox for "(\w+)"$/, /^StopPodSandbox for "(\w+)" returns successfully/],
        ["RemovePodSandbox", /^RemovePodSandbox for "(\w+)"$/, /^RemovePodSandbox "(\w+)" returns successfully/],
    ];
    let text = "";
    try {
        text = fs.readFileSync(log, "utf8");
    } catch {
        return [];
    }
    for (const line of text.split("\n")) {
        const m = /^time="([^"]+)" level=\w+ msg="((?:[^"\\]|\\.)*)"/.exec(line);
        if (!m) {
            continue;
        }
        const at = Date.parse(m[1].replace(/(\.\d{3})\d*/, "$1"));
        if (at < from || at > to) {
            continue;
        }
        const msg = m[2].replace(/\\"/g, "\"");
        for (const [op, begin, end] of patterns) {
            const e = end.exec(msg);
            if (e) {
                const key = `${op}:${e[1]}${op === "CreateContainer" ? `/${e[2]}` : ""}`;
                const call = open.get(key);
                if (call) {
                    call.end = at;
                    open.delete(key);
                }
                break;
            }
            const b = begin.exec(msg);
            if (b) {
                const key = `${op}:${b[1]}${op === "CreateContainer" ? `/${b[2]}` : ""}`;
                if (open.has(key)) {
                    // The kubelet asked again (a stop it gave up waiting for): the call runs from its first ask.
                    break;
                }
                const call: CriCall = { op, key, start: at, detail: b.slice(1).join(" ") };
                open.set(key, call);
                calls.push(call);
                break;
            }
        }
    }
    return calls;
}

/** A line of the Pulumi CLI's output and when it arrived. */
export interface TimedLine { at: Ms; text: string }
/** Each resource's step (first "creating"/"deleting" line to its "created"/"deleted" line) and the program's log. */
export interface EngineLog { steps: { urn: string; type: string; op: string; start: Ms; end?: Ms }[]; messages: { at: Ms; text: string }[] }

/**
 * Reads the non-interactive CLI's progress lines (` +  <type> <name> creating (3s) [kubemark] ...`): this CLI has
 * no --event-log, so times are when each line arrived.
 */
export function engineLog(lines: readonly TimedLine[]): EngineLog {
    const out: EngineLog = { steps: [], messages: [] };
    const open = new Map<string, EngineLog["steps"][number]>();
    for (const { at, text } of lines) {
        const m = /^\s*[-+~]*\s+(\S+:\S+)\s+(\S+)\s+(creating|created|deleting|deleted|updating|updated)\b(?:\s+\([\d.]+s\))?\s*(.*)$/.exec(text);
        if (!m) {
            continue;
        }
        const [, type, name, status, rest] = m;
        const urn = `${type}::${name}`;
        const op = status.startsWith("creat") ? "create" : status.startsWith("delet") ? "delete" : "update";
        if (status.endsWith("ing") && !open.has(urn)) {
            const step = { urn, type, op, start: at };
            open.set(urn, step);
            out.steps.push(step);
        } else if (status.endsWith("ed") && open.has(urn)) {
            open.get(urn)!.end = at;
            open.delete(urn);
        }
        if (rest.includes("[kubemark]")) {
            out.messages.push({ at, text: rest.slice(rest.indexOf("[kubemark]")) });
        }
    }
    return out;
}

// Figures over a set of times, in seconds relative to a start.
const s = (ms: number) => (ms / 1000).toFixed(1);
function pct(values: number[], p: number): number {
    const v = [...values].sort((a, b) => a - b);
    return v.length ? v[Math.min(v.length - 1, Math.floor(p * v.length))] : NaN;
}
const spanOf = (values: (number | undefined)[], t0: Ms) => {
    const v = values.filter((x): x is number => x !== undefined);
    return v.length ? `${s(Math.min(...v) - t0)}-${s(Math.max(...v) - t0)} s (${v.length})` : "none seen";
};
const durations = (values: number[]) => (values.length
    ? `median ${s(pct(values, 0.5))} s, p90 ${s(pct(values, 0.9))} s, max ${s(Math.max(...values))} s, sum ${s(values.reduce((a, b) => a + b, 0))} s (${values.length})`
    : "none seen");

/** Markdown lines: where `up` (upStart-upEnd) and `destroy` (destroyStart-destroyEnd) spent their time. */
export function breakdown(tl: Timeline, up: { start: Ms; end: Ms; log: readonly TimedLine[] }, destroy: { start: Ms; end: Ms; log: readonly TimedLine[] },
    graceSeconds: number): string[] {
    const lines: string[] = [];
    const cri = criCalls(up.start - 1000, destroy.end + 5000);
    const inUp = cri.filter((c) => c.start <= up.end);
    const inDestroy = cri.filter((c) => c.start >= destroy.start);
    const took = (calls: CriCall[], op: string) => calls.filter((c) => c.op === op && c.end !== undefined).map((c) => c.end! - c.start);
    const steps = (log: EngineLog, t0: Ms) => log.steps.filter((st) => st.end !== undefined && st.end - st.start >= 1000)
        .map((st) => `${st.op} ${st.type.split(":").pop()} ${st.urn.split("::").pop()}: ${s(st.start - t0)}-${s(st.end! - t0)} s`);
    const upLog = engineLog(up.log);
    const destroyLog = engineLog(destroy.log);
    const pods = [...tl.pods.values()];
    const nodes = [...tl.nodes.values()];
    const csrs = [...tl.csrs.values()];

    lines.push(`#### up: ${s(up.end - up.start)} s (times from its start)`, "");
    lines.push(`- resource steps of 1 s or more: ${steps(upLog, up.start).join("; ") || "none"}`);
    lines.push(`- certificates: CSRs created ${spanOf(csrs.map((c) => c.created), up.start)}, approved ${spanOf(csrs.map((c) => c.approved), up.start)}, ` +
        `issued (seen) ${spanOf(csrs.map((c) => c.issued), up.start)}; created to issued ${durations(csrs.filter((c) => c.created && c.issued).map((c) => c.issued! - c.created!))}`);
    lines.push(`- hollow pods created ${spanOf(pods.map((p) => p.created), up.start)}; all containers of a pod running ${spanOf(pods.map((p) => (p.started.size ? Math.max(...p.started.values()) : undefined)), up.start)}; ` +
        `pod created to its last container started ${durations(pods.filter((p) => p.created && p.started.size).map((p) => Math.max(...p.started.values()) - p.created!))}`);
    lines.push(`- worker containerd: RunPodSandbox ${spanOf(inUp.filter((c) => c.op === "RunPodSandbox").map((c) => c.start), up.start)} started, each ${durations(took(inUp, "RunPodSandbox"))}`);
    lines.push(`- worker containerd: CreateContainer each ${durations(took(inUp, "CreateContainer"))}; StartContainer each ${durations(took(inUp, "StartContainer"))}; ` +
        `container starts returned ${spanOf(inUp.filter((c) => c.op === "StartContainer").map((c) => c.end), up.start)}`);
    const pulls = inUp.filter((c) => c.op === "PullImage");
    const pulled = [...tl.events.values()].filter((e) => e.reason === "Pulled");
    lines.push(`- image pulls by the worker: ${pulls.map((c) => `${c.detail.split("@")[0]} ${c.end ? `${s(c.end - c.start)} s` : "(no return seen)"}`).join(", ") || "none (all present)"}; ` +
        `kubelet Pulled events ${pulled.reduce((a, e) => a + e.count, 0)}, of them "already present" ${pulled.filter((e) => e.message.includes("already present")).reduce((a, e) => a + e.count, 0)}`);
    lines.push(`- hollow Nodes registered ${spanOf(nodes.map((n) => n.created), up.start)}, Ready ${spanOf(nodes.map((n) => n.ready), up.start)}; registered to Ready ` +
        `${durations(nodes.filter((n) => n.created && n.ready).map((n) => n.ready! - n.created!))}`);
    const lastReady = Math.max(...nodes.map((n) => n.ready ?? 0));
    lines.push(`- after the last Node was Ready, up ran on ${lastReady ? s(up.end - lastReady) : "?"} s (readiness loop's last look, outputs, state)`);
    const progress = upLog.messages.filter((m) => /Ready|ready|certificate|waiting|pods/.test(m.text)).slice(-6);
    if (progress.length) {
        lines.push(`- the program's last progress lines: ${progress.map((m) => `${s(m.at - up.start)} s "${m.text.slice(0, 120)}"`).join("; ")}`);
    }
    lines.push("");

    lines.push(`#### destroy: ${s(destroy.end - destroy.start)} s (times from its start)`, "");
    lines.push(`- resource steps of 1 s or more: ${steps(destroyLog, destroy.start).join("; ") || "none"}`);
    lines.push(`- hollow pods marked for deletion ${spanOf(pods.map((p) => p.deleting).filter((t) => t && t >= destroy.start), destroy.start)}, gone ` +
        `${spanOf(pods.map((p) => p.deleted).filter((t) => t && t >= destroy.start), destroy.start)}; marked to gone ` +
        `${durations(pods.filter((p) => p.deleting && p.deleted && p.deleting >= destroy.start).map((p) => p.deleted! - p.deleting!))}`);
    const stops = took(inDestroy, "StopContainer");
    lines.push(`- worker containerd: StopContainer (grace ${graceSeconds} s) ${spanOf(inDestroy.filter((c) => c.op === "StopContainer").map((c) => c.start), destroy.start)} started, ` +
        `each ${durations(stops)}, ${stops.filter((d) => d >= graceSeconds * 1000).length} took the whole grace period or longer`);
    lines.push(`- worker containerd: StopPodSandbox each ${durations(took(inDestroy, "StopPodSandbox"))}; RemovePodSandbox each ${durations(took(inDestroy, "RemovePodSandbox"))}; ` +
        `last sandbox removed ${spanOf(inDestroy.filter((c) => c.op === "RemovePodSandbox").map((c) => c.end), destroy.start)}`);
    lines.push(`- hollow Nodes deleted ${spanOf(nodes.map((n) => n.deleted), destroy.start)}; Leases deleted ${spanOf([...tl.leases.values()].map((l) => l.deleted), destroy.start)}; ` +
        `CSRs deleted ${spanOf(csrs.map((c) => c.deleted), destroy.start)}`);
    const reaper = destroyLog.messages.slice(-8);
    if (reaper.length) {
        lines.push(`- the program's last lines: ${reaper.map((m) => `${s(m.at - destroy.start)} s "${m.text.slice(0, 120)}"`).join("; ")}`);
    }
    lines.push(`- watches restarted ${tl.restarts} time(s) (deletes during a gap are not seen)`, "");
    return lines;
}
