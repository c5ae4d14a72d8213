// The field tags of logkit.v1 (proto/logkit.proto), by name: the one place to
// edit when a field is added. A tag is the varint `field number << 3 | wire
// type` that opens each field on the wire; every tag of this schema is below
// 128, so each is one byte, and a reader may compare a tag varint's value
// with these directly.
//
// The .proto stays the contract: test/wire-tags.test.ts loads it with
// protobufjs and checks every name here against its field number and type,
// and fails when the schema has a field that has no name here.

/** Wire types (protobuf encoding): what follows a tag, and how a reader skips it. */
export const WIRE_VARINT = 0
export const WIRE_FIXED64 = 1
export const WIRE_LEN = 2
export const WIRE_FIXED32 = 5

// logkit.v1.Frame: a oneof of bodies, each a length-delimited submessage.
export const FRAME_BATCH = 0x0a // 1, Batch
export const FRAME_HELLO = 0x12 // 2, Hello
export const FRAME_HEARTBEAT = 0x1a // 3, Heartbeat
export const FRAME_GOODBYE = 0x22 // 4, Goodbye

// logkit.v1.Batch
export const BATCH_ENTRY = 0x0a // 1, repeated LogEntry
export const BATCH_DROPPED = 0x10 // 2, uint64
export const BATCH_DROPPED_TOO_LARGE = 0x18 // 3, uint64
export const BATCH_DROPPED_UNSERIALIZABLE = 0x20 // 4, uint64

// logkit.v1.LogEntry
export const ENTRY_TIME = 0x09 // 1, fixed64 time_unix_nano
export const ENTRY_LEVEL = 0x10 // 2, uint32
export const ENTRY_SEVERITY = 0x18 // 3, uint32 severity_number
export const ENTRY_MESSAGE = 0x22 // 4, string
export const ENTRY_APP = 0x2a // 5, string
export const ENTRY_SOURCE = 0x32 // 6, string
export const ENTRY_PID = 0x38 // 7, uint32
export const ENTRY_HOSTNAME = 0x42 // 8, string
export const ENTRY_SEQ = 0x48 // 9, uint64
export const ENTRY_FIELDS_JSON = 0x52 // 10, bytes
export const ENTRY_TRACE_ID = 0x5a // 11, string
export const ENTRY_SPAN_ID = 0x62 // 12, string

// logkit.v1.Hello
export const HELLO_APP = 0x0a // 1, string
export const HELLO_SOURCE = 0x12 // 2, string
export const HELLO_PID = 0x18 // 3, uint32
export const HELLO_HOSTNAME = 0x22 // 4, string
export const HELLO_PROTOCOL = 0x28 // 5, uint32
export const HELLO_TRANSPORT = 0x32 // 6, string
export const HELLO_CAPABILITY = 0x3a // 7, repeated string capabilities
export const HELLO_START_TIME = 0x41 // 8, fixed64 start_time_unix_nano

// logkit.v1.Heartbeat
export const HEARTBEAT_NOW = 0x09 // 1, fixed64 now_unix_nano
export const HEARTBEAT_NEXT = 0x11 // 2, fixed64 next_unix_nano
export const HEARTBEAT_LAST_SEQ = 0x18 // 3, uint64

// logkit.v1.Goodbye
export const GOODBYE_LAST_SEQ = 0x08 // 1, uint64
export const GOODBYE_DROPPED = 0x10 // 2, uint64
export const GOODBYE_DROPPED_TOO_LARGE = 0x18 // 3, uint64
export const GOODBYE_DROPPED_UNSERIALIZABLE = 0x20 // 4, uint64
