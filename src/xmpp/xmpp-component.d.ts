/**
 * The part of `@xmpp/component` (xmpp.js 0.13, untyped) that Catalyst uses. Elements are ltx
 * elements (`@xmpp/xml`).
 */
declare module '@xmpp/component' {
  export interface XmlElement {
    name: string;
    attrs: Record<string, string | undefined>;
    children: (XmlElement | string)[];
    getChild(name: string, xmlns?: string): XmlElement | undefined;
    getChildren(name: string, xmlns?: string): XmlElement[];
    getChildText(name: string, xmlns?: string): string | null;
    getText(): string;
    is(name: string, xmlns?: string): boolean;
    toString(): string;
  }

  export type XmlChild = XmlElement | string;

  export function xml(name: string, attrs?: Record<string, string> | null, ...children: XmlChild[]): XmlElement;

  export interface Reconnect {
    delay: number;
    start(): void;
    stop(): void;
    on(event: 'reconnecting' | 'reconnected', fn: () => void): void;
  }

  export interface Component {
    readonly status: string;
    readonly reconnect: Reconnect;
    start(): Promise<unknown>;
    stop(): Promise<unknown>;
    disconnect(timeout?: number): Promise<unknown>;
    send(el: XmlElement): Promise<void>;
    on(event: 'stanza' | 'element', fn: (el: XmlElement) => void): void;
    on(event: 'online' | 'offline' | 'disconnect' | 'connect', fn: () => void): void;
    on(event: 'status', fn: (status: string) => void): void;
    on(event: 'input', fn: (chunk: string) => void): void;
    on(event: 'error', fn: (err: Error) => void): void;
  }

  export function component(options: { service: string; domain: string; password: string }): Component;
}
