// What the dynamic providers share (args, log, request bound, advice), and the Pulumi SDK details beyond its API.
import type * as pulumi from "@pulumi/pulumi";
import type { Log } from "./async";

/**
 * A dynamic resource's args in the program: its provider's inputs as Pulumi inputs, less the version it sets itself.
 */
export type DynamicArgs<T> = { [K in keyof Omit<T, "providerVersion">]: pulumi.Input<T[K]> };

/** A single API call never waits longer than this, whatever the bound of the wait around it. */
export const REQUEST_MS = 15_000;

/** The dynamic provider's stdout goes to the Pulumi log, prefixed so users can tell our lines apart. */
export const providerLog: Log = (message) => console.log(`[kubemark] ${message}`);

/** What to do when an API server gives no answer; said by every provider that gives up on one. */
export const RETRY_ADVICE = "Check that the API server is up and the kubeconfig still works, then run the command again";

/**
 * The wire value the engine sends for an input that is unknown during a preview (sdk/nodejs runtime/rpc.ts,
 * `unknownValue`); the dynamic provider host hands it to `check` as a plain string.
 */
export const UNKNOWN_INPUT = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** The engine routes this type prefix to the Node.js dynamic provider host (as `pulumi.dynamic.Resource` names it). */
export const DYNAMIC_TYPE_PREFIX = "pulumi-nodejs:dynamic/kubemark:";

/** The input under which the engine stores a dynamic provider's serialized code; it is never an input of ours. */
export const PROVIDER_CODE_KEY = "__provider";

/** Names of the inputs that differ between two input sets, the provider's own code aside. */
export function changedKeys<T extends object>(olds: T, news: T): string[] {
    const keys = new Set([...Object.keys(olds), ...Object.keys(news)]);
    return [...keys].filter((k) => k !== PROVIDER_CODE_KEY
        && JSON.stringify((olds as Record<string, unknown>)[k]) !== JSON.stringify((news as Record<string, unknown>)[k]));
}

/**
 * `runtime.isConfigSecret` (sdk/nodejs/runtime/config.ts) tells whether a config key is stored encrypted; it is
 * exported but not in the typings. Undefined if a future SDK drops it: then no key can be checked.
 */
export function configSecretCheck(runtime: object): ((fullKey: string) => boolean) | undefined {
    const check = (runtime as { isConfigSecret?: unknown }).isConfigSecret;
    return typeof check === "function" ? (check as (fullKey: string) => boolean) : undefined;
}

/** The provider protocol's Cancel call: what the engine sends every provider on the user's first Ctrl-C. */
const CANCEL_RPC = "/pulumirpc.ResourceProvider/Cancel";
/** Where @grpc/grpc-js keeps its Server class, the one that dispatches the engine's calls in this process. */
const GRPC_SERVER_MODULE = /[\\/]@grpc[\\/]grpc-js[\\/]build[\\/]src[\\/]server\.js$/;

/** The user's Ctrl-C as this process learns of it: `signal` aborts on the engine's Cancel call. */
export interface EngineCancel {
    readonly signal: AbortSignal;
    /** True when the hook is in place; false: a Cancel cannot reach this process, only the waits' bounds end them. */
    readonly hooked: boolean;
}

/**
 * The engine's Cancel call, which the Node.js dynamic provider host answers without telling the provider
 * (@pulumi/pulumi 3.248 cmd/dynamic-provider: `cancel` is a no-op), so that a wait can end within a poll of one
 * Ctrl-C instead of running to its bound. The host and this code share the process and its @grpc/grpc-js: the hook
 * wraps the method its Server dispatches every call through (`_runHandlerForCall`, `_retrieveHandler` before it;
 * grpc-js 1.14). One per process, however many providers load it. Without the hook (another grpc-js), `hooked` is
 * false and the log says how to stop sooner.
 */
export function engineCancel(): EngineCancel {
    const key = Symbol.for("kubemark-pulumi.engineCancel");
    const shared = globalThis as unknown as Record<symbol, EngineCancel | undefined>;
    const existing = shared[key];
    if (existing) {
        return existing;
    }
    const controller = new AbortController();
    // Every request in flight listens on this one signal (up to MAX_SOCKETS per server, several servers): Node's
    // default of 10 listeners would print a leak warning that is not one.
    (require("events") as typeof import("events")).setMaxListeners(0, controller.signal);
    const fire = () => controller.abort();
    let hooked = false;
    const cache = require.cache as Record<string, { exports?: { Server?: { prototype?: Record<string, unknown> } } } | undefined>;
    for (const file of Object.keys(cache).filter((f) => GRPC_SERVER_MODULE.test(f))) {
        const proto = cache[file]?.exports?.Server?.prototype;
        if (!proto) {
            continue;
        }
        if (proto.kubemarkCancelHook === true) {
            hooked = true;
            continue;
        }
        const wrap = (method: string, pathOf: (args: unknown[]) => unknown) => {
            const original = proto[method];
            if (typeof original !== "function") {
                return false;
            }
            proto[method] = function (this: unknown, ...args: unknown[]) {
                if (pathOf(args) === CANCEL_RPC) {
                    fire();
                }
                return original.apply(this, args);
            };
            return true;
        };
        if (wrap("_runHandlerForCall", (args) => (args[1] as { path?: string } | undefined)?.path)
            || wrap("_retrieveHandler", (args) => args[0])) {
            proto.kubemarkCancelHook = true;
            hooked = true;
        }
    }
    const state = { signal: controller.signal, hooked };
    shared[key] = state;
    return state;
}

/** Said as a long wait starts: its bound, how Ctrl-C stops it, and what the next command does. */
export function waitAdvice(cancel: EngineCancel, boundSeconds: number, command: "up" | "destroy"): string {
    return cancel.hooked
        ? `(at most ${boundSeconds}s; Ctrl-C stops the wait within seconds, and the next \`pulumi ${command}\` picks it up)`
        : `(at most ${boundSeconds}s; a first Ctrl-C cannot reach this wait in this Pulumi version, so it runs to that bound; ` +
        `a second Ctrl-C stops at once, and the next \`pulumi ${command}\` picks it up)`;
}
