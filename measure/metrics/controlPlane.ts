// Control-plane health over a run: the components' /metrics and the host's load, read periodically and recorded.
import * as os from "node:os";
import type { Kube } from "../kube";
import {
    Attempt,
    ComponentName,
    ControlPlaneHealth,
    controlPlaneHealth,
    parseScrape,
    restarted,
    START,
} from "./controlPlaneHealth";
import { endpoint, HealthEndpoints, publicUrl, Read, readApiserver } from "./controlPlaneEndpoints";
import { HostRead, hostOf, localAddresses, onThisMachine, readHost } from "./host";

interface Source {
    readonly component: ComponentName;
    readonly source: string;
    note(): string | undefined;
    read(): Promise<Read>;
    readonly attempts: Attempt[];
}

/**
 * Reads every component's /metrics and the host's load at the start, every `everyMs`, and at the end. A component
 * that cannot be read is recorded with why and the run goes on; the kubeconfig is held in closures, never in a result.
 */
export class ControlPlaneRecorder {
    private readonly sources: Source[];
    private readonly host: { why: string } | { cores: number; reads: HostRead[] };
    private timer?: NodeJS.Timeout;
    private inflight?: Promise<void>;

    constructor(
        apiserver: Kube,
        targetKubeconfig: string,
        endpoints: HealthEndpoints,
        private readonly startMs: number,
        private readonly log: (m: string) => void,
        private readonly signal?: AbortSignal,
    ) {
        const ep = (component: ComponentName, url: string, flag: string): Source => ({
            component,
            ...endpoint(url, targetKubeconfig, flag, signal),
            attempts: [],
        });
        this.sources = [
            {
                component: "kube-apiserver",
                source: publicUrl(`${apiserver.server.replace(/\/+$/, "")}/metrics`),
                note: () => undefined,
                read: () => readApiserver(apiserver),
                attempts: [],
            },
            ep("etcd", endpoints.etcd, "--etcd-metrics-url"),
            ep("kube-scheduler", endpoints.scheduler, "--scheduler-metrics-url"),
            ep("kube-controller-manager", endpoints.controllerManager, "--controller-manager-metrics-url"),
        ];
        this.host = onThisMachine(apiserver.server, localAddresses())
            ? { cores: os.cpus().length, reads: [] }
            : {
                  why: `the target API server's host ${hostOf(apiserver.server) ?? "(unknown)"} is not this machine (neither loopback nor one of its addresses)`,
              };
    }

    async start(everyMs: number): Promise<void> {
        await this.scrapeAll();
        this.timer = setInterval(() => this.tick(), everyMs);
    }

    private tick(): void {
        if (this.inflight === undefined) {
            this.inflight = this.scrapeAll().finally(() => {
                this.inflight = undefined;
            });
        }
    }

    /** The last scrape, then the run's health; a cancelled run is summed up from what was read until then. */
    async stop(): Promise<ControlPlaneHealth> {
        clearInterval(this.timer);
        this.timer = undefined;
        await this.inflight;
        await this.scrapeAll();
        return controlPlaneHealth(
            this.sources.map((s) => ({
                component: s.component,
                source: s.source,
                note: s.note(),
                attempts: s.attempts,
            })),
            this.host,
            this.startMs,
            Date.now(),
        );
    }

    private async scrapeAll(): Promise<void> {
        if (this.signal?.aborted) {
            return;
        }
        if ("reads" in this.host) {
            this.host.reads.push(readHost(Date.now()));
        }
        await Promise.all(
            this.sources.map(async (s) => {
                const r = await s.read();
                if (this.signal?.aborted) {
                    return; // a read cut short by Ctrl-C is not the component's gap
                }
                const atMs = Date.now();
                let attempt: Attempt;
                try {
                    attempt = r.ok ? { atMs, scrape: parseScrape(s.component, r.body, atMs) } : { atMs, why: r.why };
                } catch (e) {
                    attempt = {
                        atMs,
                        why: `not readable: not the Prometheus text format: ${(e as Error).message.slice(0, 200)}`,
                    };
                }
                this.logChange(s, attempt);
                s.attempts.push(attempt);
            }),
        );
    }

    /** Says when a component turns unreadable, readable again, or restarted; not every failed read. */
    private logChange(s: Source, now: Attempt): void {
        const before = s.attempts[s.attempts.length - 1];
        const name = `control-plane health: ${s.component}`;
        if ("why" in now && (before === undefined || "scrape" in before)) {
            this.log(`${name} ${before === undefined ? "" : "stopped answering: "}${now.why}`);
        } else if ("scrape" in now && before !== undefined && "why" in before) {
            this.log(`${name} readable${s.attempts.some((a) => "scrape" in a) ? " again" : ""}`);
        }
        const lastOk = [...s.attempts].reverse().find((a): a is Extract<Attempt, { scrape: unknown }> => "scrape" in a);
        if ("scrape" in now && lastOk !== undefined && restarted(lastOk.scrape, now.scrape)) {
            this.log(`${name} restarted (${START} changed)`);
        }
    }
}
