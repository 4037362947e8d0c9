// The public `netloom/codec` entry: protocols, schema builders, the frame envelope, errors and stream framing.
// The polyfill must load before anything imports packcat (it needs Float16Array at module load on Node 20).
import './polyfill.js';

export { ByteReader, ByteWriter, varuintSize, writeVaruint } from './bytes.js';
export {
  type Checker,
  type CodecLimits,
  compileChecker,
  DEFAULT_CODEC_LIMITS,
  isValidUtf8,
  resolveLimits,
} from './check.js';
export { compileValueValidator, type ValueValidator } from './check-value.js';
export {
  type AnyEndpoints,
  BUILTIN_ENDPOINTS,
  DESCRIBE_ENDPOINT,
  defineEndpoints,
  type EndpointCodec,
  type EndpointDescription,
  type EndpointName,
  type EndpointRequest,
  type EndpointResponse,
  type EndpointSpec,
  type Endpoints,
  type EndpointsDef,
  MAX_ENDPOINT_NAME,
  type RequestsOf,
  type ResponsesOf,
  schemaJson,
} from './endpoints.js';
export { ERROR_CODES, type ErrorCode, isErrorCode, NetloomError, toNetloomError } from './errors.js';
export {
  DEFAULT_FRAME_LIMITS,
  decodeFrame,
  encodeDataFrame,
  encodeFrame,
  encodeMessage,
  encodeRoomFrame,
  type Frame,
  FrameKind,
  type FrameLimits,
  type Hello,
  MAX_PEER_SETUP_BYTES,
  type Message,
  MessageKind,
  type PeerMessage,
  PeerPart,
  roomHeaderSize,
  type Welcome,
  WIRE_VERSION,
} from './frames.js';
export { type BuiltSchema, build, p, type Schema, type SchemaType } from './packcat.js';
export {
  type ClientMessages,
  type DecodedMessage,
  type DirectionDef,
  defineProtocol,
  type EncodedMessage,
  fnv1a32,
  MAX_OP,
  type MessageDef,
  type MessageInfo,
  type MessageSpec,
  type MessagesOf,
  type PeerMessages,
  type PeerMessagesOf,
  type Protocol,
  type ProtocolDef,
  type ProtocolDirection,
  type ProtocolOptions,
  type SchemaOf,
  type ServerMessages,
} from './protocol.js';
export {
  DEFAULT_MAX_STREAM_FRAME_BYTES,
  encodeLengthPrefixed,
  LengthPrefixedDecoder,
  type LengthPrefixedDecoderOptions,
} from './stream-framing.js';
