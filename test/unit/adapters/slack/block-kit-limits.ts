// Test helper: checks a message against Block Kit's documented limits.
import { BLOCK_KIT_LIMITS as L } from '../../../../lambdas/adapters/slack/block-kit';
import type { SlackMessage } from '../../../../lambdas/adapters/slack/slack-message';

type Any = Record<string, any>;

/** Every limit the message breaks, as readable strings (empty when it fits). */
export function blockKitViolations(message: SlackMessage): string[] {
  const problems: string[] = [];
  const check = (what: string, text: string | undefined, max: number) => {
    if (text === undefined || text.length === 0) problems.push(`${what} is empty`);
    else if (text.length > max) problems.push(`${what} is ${text.length} > ${max}`);
  };
  if (message.blocks.length > L.blocksPerMessage) problems.push(`${message.blocks.length} blocks`);
  check('fallback text', message.text, L.fallbackText);
  for (const block of message.blocks as Any[]) {
    if (block.type === 'header') check('header', block.text?.text, L.headerText);
    if (block.type === 'section') {
      if (block.text) check('section text', block.text.text, L.sectionText);
      if (block.fields) {
        if (block.fields.length > L.sectionFields) problems.push(`${block.fields.length} fields`);
        for (const field of block.fields as Any[]) check('field', field.text, L.fieldText);
      }
    }
    if (block.type === 'context') {
      if (block.elements.length > L.contextElements) problems.push('too many context elements');
      for (const element of block.elements as Any[]) check('context', element.text, L.contextText);
    }
    if (block.type === 'actions') {
      for (const button of block.elements as Any[]) {
        check('button text', button.text?.text, L.buttonText);
        check('button value', button.value, L.buttonValue);
        if (button.confirm) {
          check('confirm title', button.confirm.title.text, L.confirmTitle);
          check('confirm text', button.confirm.text.text, L.confirmText);
          check('confirm button', button.confirm.confirm.text, L.confirmButton);
          check('confirm deny', button.confirm.deny.text, L.confirmButton);
        }
      }
    }
  }
  return problems;
}
