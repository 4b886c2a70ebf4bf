/**
 * A route of the protocol: method, path, documentation and the schemas of what goes in and what
 * comes back. The server registers it with its handler (server/schemas/routes.ts adds the error
 * answers); the page builds its request from it and checks every answer against `response`.
 * A new route is one `defineRoute` in ./routes/ plus a handler in server/routes/.
 */
import type { Static, TObject, TSchema } from '@sinclair/typebox';

export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface RouteSpec {
  readonly method: Method;
  /** Fastify-style path: `:name` segments are `params`. */
  readonly url: `/${string}`;
  readonly summary: string;
  readonly description?: string;
  readonly params?: TObject;
  readonly querystring?: TObject;
  readonly headers?: TObject;
  readonly body?: TSchema;
  /** The answers that are not refusals, by status. Every route also answers 4xx / 5xx with ErrorBody. */
  readonly response: { readonly [status: number]: TSchema };
}

export function defineRoute<const R extends RouteSpec>(route: R): R {
  return route;
}

type StaticOf<S> = S extends TSchema ? Static<S> : undefined;

export type RouteParams<R extends RouteSpec> = StaticOf<R['params']>;
export type RouteBody<R extends RouteSpec> = StaticOf<R['body']>;
export type RouteHeaders<R extends RouteSpec> = StaticOf<R['headers']>;
/** The body of any of the route's non-refusal answers. */
export type RouteReply<R extends RouteSpec> = { [K in keyof R['response']]: StaticOf<R['response'][K]> }[keyof R['response']];

/** The route's path with its `:name` segments filled in (URI-encoded). */
export function pathOf(route: RouteSpec, params: Readonly<Record<string, string>> = {}): string {
  return route.url.replace(/:([A-Za-z0-9_]+)/g, (_m, name: string) => {
    const v = params[name];
    if (v === undefined) throw new TypeError(`${route.method} ${route.url} needs the path parameter ${name}.`);
    return encodeURIComponent(v);
  });
}
