/** The server's logging: a destination that never blocks serving, a readable format, secrets kept out. */
export { LogSink } from './log-sink.js';
export { prettyLogLine, type LogFormat } from './log-format.js';
