// Integration tests run whole videos through the local pipeline: minutes, not seconds, at worst.
jest.setTimeout(180_000);

