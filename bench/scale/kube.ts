// Minimal raw HTTPS client for the bench's own traffic, so every request it makes is counted and can be subtracted.
import * as https from "node:https";
import { HttpReply, send } from "../../components/kube/http";

export type Reply = HttpReply;

export class Kube {
    /** Requests this client sent: the bench subtracts them from the API server's request counters. */
    sent = 0;
    // Keep-alive: creating 10,000 objects must not pay a TLS handshake each.
    private readonly agent = new https.Agent({ keepAlive: true, maxSockets: 80, rejectUnauthorized: false });

    constructor(readonly server: string, private readonly token: string) {}

    static fromKubeconfig(server: string, kubeconfig: string): Kube {
        const m = /token:\s*(\S+)/.exec(kubeconfig);
        if (!m) {
            throw new Error("bench kubeconfig has no token");
        }
        return new Kube(server, m[1]);
    }

    request(method: string, path: string, body?: unknown, accept = "application/json"): Promise<Reply> {
        this.sent++;
        const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
        const headers: Record<string, string | number> = { Authorization: `Bearer ${this.token}`, Accept: accept };
        if (data) {
            headers["Content-Type"] = "application/json";
            headers["Content-Length"] = data.length;
        }
        return send(new URL(path, this.server), { method, headers, agent: this.agent }, data);
    }

    /** Like request, but any non-2xx answer is an error: population setup must not silently miss objects. */
    async must(method: string, path: string, body?: unknown, accept?: string): Promise<any> {
        const r = await this.request(method, path, body, accept);
        if (r.status < 200 || r.status >= 300) {
            throw new Error(`${method} ${path}: HTTP ${r.status}: ${r.body.slice(0, 300)}`);
        }
        return r.body ? JSON.parse(r.body) : undefined;
    }

    close(): void {
        this.agent.destroy();
    }
}
