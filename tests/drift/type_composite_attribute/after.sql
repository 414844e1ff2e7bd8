-- drift case type_composite_attribute: the change
ALTER TYPE addr ADD ATTRIBUTE city text, ALTER ATTRIBUTE zip TYPE text, DROP ATTRIBUTE country;
