-- drift case foreign_server: the change
ALTER SERVER srv VERSION '2' OPTIONS (SET host 'b.example.org', ADD port '5433');
CREATE SERVER srv2 TYPE 'oracle' FOREIGN DATA WRAPPER w;
