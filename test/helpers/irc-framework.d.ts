// The little of irc-framework (no typings of its own) the IRC door's tests use.
declare module "irc-framework" {
  import { EventEmitter } from "node:events";

  export interface ConnectOptions {
    host: string;
    port: number;
    nick: string;
    username?: string;
    gecos?: string;
    password?: string;
    auto_reconnect?: boolean;
    enable_echomessage?: boolean;
  }

  export class Client extends EventEmitter {
    connect(options: ConnectOptions): void;
    requestCap(cap: string | string[]): void;
    raw(...args: string[]): void;
    join(channel: string): void;
    say(target: string, text: string): void;
    changeNick(nick: string): void;
    quit(message?: string): void;
    user: { nick: string };
    network: { options: Record<string, string>; cap: { enabled: string[] } };
    connected: boolean;
  }

  const irc: { Client: typeof Client };
  export default irc;
}
