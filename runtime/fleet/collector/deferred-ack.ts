/**
 * Incoming QoS 1 messages from mqtt.js with the PUBACK under our control, so a message is
 * acknowledged only after it is stored.
 *
 * Why not plain mqtt.js: it sends the PUBACK when `handleMessage`'s callback runs, and reads the
 * next packet only after that, so delaying the callback until the store commits processes one
 * message per transaction (a few hundred per second). Instead `handleMessage` hands the message
 * over and calls back with a marker error, which mqtt.js takes as "done, send no PUBACK" and moves
 * on; the PUBACK is written later through the client's packet writer (`_sendPacket`, internal:
 * mqtt is pinned at 5.16.0 and tests/fleet/deferred-ack.test.ts checks this behaviour).
 *
 * An ack is sent only on the connection that delivered the message: after a reconnect the packet
 * id may name another message, and the broker resends unacknowledged messages of a persistent
 * session anyway (stored again, counted once). QoS 2 (never requested: we subscribe at QoS 1)
 * falls back to holding the callback until the ack.
 */
import type { MqttClient } from "mqtt";

export interface IncomingMessage {
  topic: string;
  payload: Buffer;
  retain: boolean;
  /** Sends the PUBACK (QoS 1) if the delivering connection is still up; idempotent. */
  ack(): void;
}

class AckDeferred extends Error {
  constructor() {
    super("PUBACK deferred until the message is stored");
  }
}
const DEFERRED = new AckDeferred();

type PacketWriter = { _sendPacket(packet: { cmd: "puback"; messageId: number; reasonCode: number }): void };

export function deliverWithDeferredAcks(client: MqttClient, onMessage: (m: IncomingMessage) => void): void {
  client.handleMessage = (packet, callback) => {
    const stream = client.stream;
    const { qos, messageId } = packet;
    let acked = false;
    const message: IncomingMessage = {
      topic: packet.topic,
      payload: typeof packet.payload === "string" ? Buffer.from(packet.payload) : (packet.payload as Buffer),
      retain: packet.retain === true,
      ack() {
        if (acked) return;
        acked = true;
        if (qos === 2) callback();
        else if (qos === 1 && messageId !== undefined && client.connected && client.stream === stream) {
          (client as unknown as PacketWriter)._sendPacket({ cmd: "puback", messageId, reasonCode: 0 });
        }
      },
    };
    onMessage(message);
    if (qos === 1) callback(DEFERRED);
    else if (qos === 0) callback();
  };
}
