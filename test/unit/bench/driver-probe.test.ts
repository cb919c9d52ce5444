// The bench's probe counts a credential dead only on STS's refusal: a timeout or a dropped
// connection is asked again, then fails the run, instead of making a kill switch look faster.
import { STSClient } from '@aws-sdk/client-sts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loopbackEndpoint, type LoopbackEndpoint } from '../../helpers/loopback-endpoint';
import { BenchDriver } from '../../../bench/driver';

describe('BenchDriver.probe', () => {
  let endpoint: LoopbackEndpoint;
  let sts: STSClient;
  let answer: 'refused' | 'dropped' | 'valid';
  let requests: number;

  beforeEach(async () => {
    requests = 0;
    endpoint = await loopbackEndpoint((request, response) => {
      requests++;
      if (answer === 'dropped') {
        request.socket.destroy();
        return;
      }
      response.setHeader('content-type', 'text/xml');
      if (answer === 'refused') {
        response.statusCode = 403;
        response.end(
          '<ErrorResponse><Error><Type>Sender</Type><Code>InvalidClientTokenId</Code>' +
            '<Message>The security token included in the request is invalid.</Message></Error><RequestId>r</RequestId></ErrorResponse>',
        );
        return;
      }
      response.end(
        '<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:iam::000000000000:user/u</Arn>' +
          '<UserId>AIDA</UserId><Account>000000000000</Account></GetCallerIdentityResult></GetCallerIdentityResponse>',
      );
    });
    sts = new STSClient(endpoint.clientConfig);
  });
  afterEach(async () => {
    sts.destroy();
    await endpoint.close();
  });

  const driver = () => new BenchDriver('http://127.0.0.1:1');

  it("counts STS's refusal as dead and an answer as alive", async () => {
    answer = 'refused';
    expect(await driver().probe(sts)).toEqual({ ok: false, code: 'InvalidClientTokenId' });
    answer = 'valid';
    expect(await driver().probe(sts)).toEqual({ ok: true });
  });

  it('never counts a call STS did not answer as a refusal: asked again, then the run fails', async () => {
    answer = 'dropped';
    await expect(driver().probe(sts)).rejects.toThrow(/without an answer from STS/);
    expect(requests).toBe(3);
  });
});
