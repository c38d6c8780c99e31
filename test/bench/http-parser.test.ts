// The load generator's HTTP response parser, fed real responses cut at every byte
// boundary: the same responses, statuses, body sizes and bodies however reads split them.
import { describe, expect, it } from "vitest";
import { HttpResponseParser, type ResponseParserOptions } from "../../src/bench/http-parser.js";
import { EchoplexError } from "../../src/errors.js";

interface Seen {
  status: number;
  bytes: number;
  keepAlive: boolean;
  body: string;
}

function parse(chunks: Buffer[], options: ResponseParserOptions = { collectBody: true }, end = false) {
  const seen: Seen[] = [];
  let body = "";
  const parser = new HttpResponseParser(
    {
      onResponse(status, bytes, keepAlive) {
        seen.push({ status, bytes, keepAlive, body });
        body = "";
      },
      onBody(data, start, stop) {
        body += data.toString("latin1", start, stop);
      },
    },
    options,
  );
  for (const c of chunks) parser.push(c);
  if (end) parser.end();
  return seen;
}

/** Every way to cut `input` in two, and every byte alone. */
function* twoWay(input: Buffer): Generator<Buffer[]> {
  for (let i = 0; i <= input.length; i++) yield [input.subarray(0, i), input.subarray(i)];
  yield Array.from({ length: input.length }, (_, i) => input.subarray(i, i + 1));
}

function* threeWay(input: Buffer): Generator<Buffer[]> {
  for (let i = 0; i <= input.length; i++)
    for (let j = i; j <= input.length; j++)
      yield [input.subarray(0, i), input.subarray(i, j), input.subarray(j)];
}

const bytes = (s: string) => Buffer.from(s, "latin1");

// What node:http and other servers send: Content-Length, chunked with an extension and a
// trailer, interim 100 and 103, 204 and 304 (a 304 may name the length it would have had),
// an empty line between responses, an error status, and a last one that closes.
const STREAM = bytes(
  [
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 12\r\nConnection: keep-alive\r\n\r\nHello World!",
    "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n",
    "HTTP/1.1 201 Created\r\ntransfer-encoding: gzip, Chunked\r\n\r\n5;ext=1\r\nhello\r\n0007\r\n, world\r\n0\r\nX-Trailer: t\r\n\r\n",
    "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n",
    "HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\nETag: x\r\n\r\n",
    "\r\nHTTP/1.1 503 Service Unavailable\nContent-Length:  4 \n\nbusy",
    "HTTP/1.1 200 OK\r\nCONNECTION: Upgrade, close\r\nContent-Length: 3\r\n\r\nbye",
    "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nnever",
  ].join(""),
);
const EXPECTED: Seen[] = [
  { status: 200, bytes: 12, keepAlive: true, body: "Hello World!" },
  { status: 201, bytes: 12, keepAlive: true, body: "hello, world" },
  { status: 204, bytes: 0, keepAlive: true, body: "" },
  { status: 304, bytes: 0, keepAlive: true, body: "" },
  { status: 503, bytes: 4, keepAlive: true, body: "busy" },
  // Connection: close: the connection ends there, and what follows is not read.
  { status: 200, bytes: 3, keepAlive: false, body: "bye" },
];

describe("bench's HTTP response parser", () => {
  it("reads a stream of responses whole", () => {
    expect(parse([STREAM])).toEqual(EXPECTED);
  });

  it("reads the same responses however the stream is cut (every 2-way cut, every byte alone)", () => {
    let count = 0;
    for (const chunks of twoWay(STREAM)) {
      expect(parse(chunks)).toEqual(EXPECTED);
      count++;
    }
    expect(count).toBe(STREAM.length + 2);
  });

  it("reads a chunked response cut in three anywhere", () => {
    const chunked = bytes(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n1A ; x=y\r\n0123456789abcdefghijklmnop\r\n0\r\n\r\n" +
        "HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nno",
    );
    const want: Seen[] = [
      { status: 200, bytes: 29, keepAlive: true, body: "abc0123456789abcdefghijklmnop" },
      { status: 404, bytes: 2, keepAlive: true, body: "no" },
    ];
    for (const chunks of threeWay(chunked)) expect(parse(chunks)).toEqual(want);
  });

  it("counts bodies without handing them over unless asked", () => {
    const seen = parse([STREAM], {});
    expect(seen.map((s) => [s.status, s.bytes, s.body])).toEqual(
      EXPECTED.map((e) => [e.status, e.bytes, ""]),
    );
  });

  it("HEAD: no body whatever the headers say", () => {
    const head = bytes(
      "HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nHTTP/1.1 404 Not Found\r\n\r\n",
    );
    for (const chunks of twoWay(head))
      expect(parse(chunks, { head: true }).map((s) => [s.status, s.bytes, s.keepAlive])).toEqual([
        [200, 0, true],
        [200, 0, true],
        [404, 0, true],
      ]);
  });

  it("HTTP/1.0 closes unless it asks to keep alive", () => {
    expect(parse([bytes("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok")])).toEqual([
      { status: 200, bytes: 2, keepAlive: false, body: "ok" },
    ]);
    const kept = bytes("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 2\r\n\r\nok");
    expect(parse([kept, kept]).map((s) => s.keepAlive)).toEqual([true, true]);
  });

  it("a body with neither length nor chunked runs to the close, which completes it", () => {
    const untilClose = bytes("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it\r\n\r\nHTTP/1.1 ");
    for (const chunks of twoWay(untilClose)) {
      expect(parse(chunks)).toEqual([]);
      expect(parse(chunks, { collectBody: true }, true)).toEqual([
        { status: 200, bytes: 22, keepAlive: false, body: "all of it\r\n\r\nHTTP/1.1 " },
      ]);
    }
    // A coding other than chunked last: the length is unknown, the body runs to the close.
    const gzip = bytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\nContent-Length: 1\r\n\r\nxyz");
    expect(parse([gzip], {}, true)).toEqual([{ status: 200, bytes: 3, keepAlive: false, body: "" }]);
  });

  it("end() in the middle of a response completes nothing", () => {
    expect(parse([bytes("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel")], {}, true)).toEqual([]);
    expect(parse([bytes("HTTP/1.1 200 OK\r\nContent-Le")], {}, true)).toEqual([]);
  });

  it("reset() forgets a half-read response (a new connection)", () => {
    const seen: number[] = [];
    const parser = new HttpResponseParser({ onResponse: (s) => seen.push(s), onBody: () => {} });
    parser.push(bytes("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhe"));
    parser.reset();
    parser.push(bytes("HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n"));
    expect(seen).toEqual([202]);
  });

  const bad: Array<[string, string, RegExp]> = [
    ["not HTTP", "SSH-2.0-OpenSSH_9.6\r\n", /status line "SSH-2.0-OpenSSH_9.6"/],
    ["HTTP/2 preface", "HTTP/2 200\r\n\r\n", /status line/],
    ["a three-letter status", "HTTP/1.1 2OO OK\r\n\r\n", /status line/],
    ["a header without a colon", "HTTP/1.1 200 OK\r\nContent-Length 5\r\n\r\n", /without a name/],
    ["a Content-Length with letters", "HTTP/1.1 200 OK\r\nContent-Length: 5x\r\n\r\n", /bad Content-Length/],
    [
      "two Content-Lengths that differ",
      "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
      /two different/,
    ],
    [
      "a chunk size that is not hex",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
      /chunk size/,
    ],
    [
      "chunk data longer than its size",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n",
      /longer than its size/,
    ],
    ["101 Switching Protocols", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n", /101/],
    ["headers past the limit", `HTTP/1.1 200 OK\r\nX-Big: ${"a".repeat(70_000)}`, /longer than 65536/],
  ];
  for (const [what, input, message] of bad) {
    it(`refuses ${what} with ERR_BAD_REPLY, however it is cut`, () => {
      const buf = bytes(input);
      const cuts = buf.length > 1000 ? [[buf], [buf.subarray(0, 30), buf.subarray(30)]] : twoWay(buf);
      for (const chunks of cuts) {
        let caught: unknown;
        try {
          parse(chunks);
        } catch (err) {
          caught = err;
        }
        expect(EchoplexError.is(caught) && caught.code).toBe("ERR_BAD_REPLY");
        expect((caught as Error).message).toMatch(message);
      }
    });
  }
});
