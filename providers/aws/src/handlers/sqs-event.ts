import type { ReceivedMessage } from '@faaskeeper/core';
import { type BodyOffload, resolveBody } from '../sqs-offload.js';
import type { SqsEvent, SqsRecord } from './lambda-types.js';

/** The core's view of the records of an SQS event, offloaded bodies fetched from S3. */
export async function recordsToMessages(
  records: SqsRecord[],
  offload?: BodyOffload,
): Promise<ReceivedMessage[]> {
  return Promise.all(
    records.map(async (r) => {
      const { body } = await resolveBody(offload, r.body, r.messageAttributes);
      return {
        id: r.messageId,
        body,
        group: r.attributes.MessageGroupId ?? '',
        attempt: Number(r.attributes.ApproximateReceiveCount ?? 1),
        receipt: r.receiptHandle,
      };
    }),
  );
}

/**
 * An SQS event as Lambda's event source mapping would build it from received messages (their
 * bodies already resolved): how the local runtime invokes the real Lambda handlers.
 */
export function messagesToEvent(
  messages: ReceivedMessage[],
  queueArn = 'arn:aws:sqs:local:000000000000:local',
): SqsEvent {
  return {
    Records: messages.map((m) => ({
      messageId: m.id,
      receiptHandle: m.receipt,
      body: m.body,
      attributes: { ApproximateReceiveCount: String(m.attempt), MessageGroupId: m.group },
      messageAttributes: {},
      eventSource: 'aws:sqs',
      eventSourceARN: queueArn,
    })),
  };
}
